# Every figure reads only the tables of results/tables/, so editing a plotting module or
# script and rerunning redraws without recomputing anything upstream.

# Paper figure -> the comparison it shows.
DISTANCE_FIGURES = {"fig5": "lbfgs-train_vs_sgd-test", "figS3": "lbfgs-test_vs_sgd-test"}
KERNEL_PCA_FIGURES = {"fig6": "lbfgs-train_vs_sgd-test", "figS4": "lbfgs-test_vs_sgd-test"}
FIGURE_CODE = code("plots", "style", "io")


def figure(name, caption, category="Figures"):
    """A figure's PNG (shown in snakemake --report) and PDF (for print)."""
    return {
        "png": report(f"results/figures/{name}.png", caption=f"../report/{caption}.rst", category=category),
        "pdf": f"results/figures/{name}.pdf",
    }


rule loss_curves_figure:
    input:
        curves="results/tables/loss_curves.csv",
        code=FIGURE_CODE,
    output:
        **figure("fig2_loss_curves", "loss_curves", "Training"),
    log:
        "logs/figures/fig2_loss_curves.log",
    benchmark:
        "benchmarks/figures/fig2_loss_curves.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/figure_loss_curves.py"


rule distance_figure:
    input:
        distances="results/tables/distances.csv",
        code=FIGURE_CODE,
    output:
        **figure("{figure}_distances", "distances", "Geometry"),
    params:
        comparison=lambda wildcards: DISTANCE_FIGURES[wildcards.figure],
    wildcard_constraints:
        figure="|".join(DISTANCE_FIGURES),
    log:
        "logs/figures/{figure}_distances.log",
    benchmark:
        "benchmarks/figures/{figure}_distances.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/figure_distances.py"


rule kernel_pca_figures:
    input:
        projections="results/tables/kernel_pca.csv",
        separation="results/tables/kernel_separation.csv",
        code=FIGURE_CODE,
    output:
        **figure("{figure}_kernel_pca", "kernel_pca", "Geometry"),
        **{f"kernels_{k}": v for k, v in figure("{figure}_kernel_comparison", "kernel_comparison", "Geometry").items()},
    params:
        comparison=lambda wildcards: KERNEL_PCA_FIGURES[wildcards.figure],
    wildcard_constraints:
        figure="|".join(KERNEL_PCA_FIGURES),
    log:
        "logs/figures/{figure}_kernel_pca.log",
    benchmark:
        "benchmarks/figures/{figure}_kernel_pca.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/figure_kernel_pca.py"


def geometry_figures():
    if len(OPTIMIZERS) < 2:  # the comparisons need both optimizers' sets
        return []
    return expand("results/figures/{figure}_distances.{ext}", figure=DISTANCE_FIGURES, ext=("png", "pdf")) + expand(
        "results/figures/{figure}_{kind}.{ext}",
        figure=KERNEL_PCA_FIGURES,
        kind=("kernel_pca", "kernel_comparison"),
        ext=("png", "pdf"),
    )
