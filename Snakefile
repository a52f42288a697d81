# Reproduction of Yu & Morozov (2026), "Neural network optimization strategies and the
# topography of the loss landscape". The rules live in workflow/rules/, the logic in
# src/topography/, and the stages run: data -> train -> select -> paths, geometry -> figures
# -> report.


configfile: "config.yaml"


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
        train_outputs(),
        "results/tables/table1.csv",
        "results/figures/fig2_loss_curves.png",
        geometry_figures(),
        path_targets(),
        "results/figures/fig3_toy_paths.png",
        "results/report/report.html",
        curvature_targets(),
        bezier_targets(),
