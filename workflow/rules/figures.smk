# Every figure reads only the tables of results/tables/, so editing a plotting module or
# script and rerunning redraws without recomputing anything upstream.


rule loss_curves_figure:
    input:
        curves="results/tables/loss_curves.csv",
        code=code("figure_loss_curves"),
    output:
        **figure("fig2_loss_curves", "loss_curves", "Training"),
    log:
        "logs/figures/fig2_loss_curves.log",
    benchmark:
        "benchmarks/figures/fig2_loss_curves.tsv"
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 10 * attempt,
    script:
        "../../scripts/figure_loss_curves.py"


rule distance_figure:
    input:
        distances="results/tables/distances.csv",
        code=code("figure_distances"),
    output:
        **figure("{figure}_distances", "distances", "Geometry"),
    log:
        "logs/figures/{figure}_distances.log",
    benchmark:
        "benchmarks/figures/{figure}_distances.tsv"
    wildcard_constraints:
        figure="|".join(DISTANCE_FIGURES),
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        comparison=lambda wildcards: DISTANCE_FIGURES[wildcards.figure],
    script:
        "../../scripts/figure_distances.py"


rule kernel_pca_figures:
    input:
        projections="results/tables/kernel_pca.csv",
        separation="results/tables/kernel_separation.csv",
        code=code("figure_kernel_pca"),
    output:
        **figure("{figure}_kernel_pca", "kernel_pca", "Geometry"),
        **{f"kernels_{k}": v for k, v in figure("{figure}_kernel_comparison", "kernel_comparison", "Geometry").items()},
    log:
        "logs/figures/{figure}_kernel_pca.log",
    benchmark:
        "benchmarks/figures/{figure}_kernel_pca.tsv"
    wildcard_constraints:
        figure="|".join(KERNEL_PCA_FIGURES),
    conda:
        ANALYSIS_ENV
    threads: 1
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        comparison=lambda wildcards: KERNEL_PCA_FIGURES[wildcards.figure],
    script:
        "../../scripts/figure_kernel_pca.py"
