# Reproduction of Yu & Morozov (2026), "Neural network optimization strategies and the
# topography of the loss landscape". The rules live in workflow/rules/, the logic in
# src/topography/, and the stages run: data -> train -> select -> paths, geometry -> figures.

configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/select.smk"


rule all:
    input:
        train_outputs(),
        expand("results/sets/{network}/runs.csv", network=NETWORKS),
    default_target: True
