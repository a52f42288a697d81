# Reproduction of Yu & Morozov (2026), "Neural network optimization strategies and the
# topography of the loss landscape". The rules live in workflow/rules/, the logic in
# src/topography/, and the stages run: data -> train -> select -> paths, geometry -> figures
# -> report.


import os


# The working directory's config.yaml where there is one, else the workflow's own: results go
# to the working directory, so snakemake -s <clone>/Snakefile -d <dir> runs the default there.
configfile: "config.yaml" if os.path.exists("config.yaml") else os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/select.smk"
include: "workflow/rules/geometry.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/paths.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/curvature.smk"
include: "workflow/rules/crosscheck.smk"


rule all:
    default_target: True
    input:
        every_result(),
