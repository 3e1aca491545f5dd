"""benchmarks/throughput.py: runs end to end with tiny settings and writes the CSV
it promises (no timing assertions: speed is for the benchmark to print)."""

import pandas as pd
import pytest
import torch

from benchmarks import throughput, timing


def test_throughput_script_writes_a_row_per_setup(tmp_path):
    throughput.main(
        [
            "--device",
            "cpu",
            "--width",
            "16",
            "--steps",
            "3",
            "--warmup",
            "2",
            "--seeds",
            "1,2",
            "--image-steps",
            "2",
            "--image-width",
            "4",
            "--out",
            str(tmp_path),
        ]
    )
    (path,) = tmp_path.glob("throughput_cpu_*.csv")
    table = pd.read_csv(path)
    assert list(table.columns) == throughput.COLUMNS
    assert table["row"].tolist() == ["a", "b", "c", "c", "img"]
    assert (table["wall_s"] > 0).all() and (table["seed_steps_per_s"] > 0).all()
    toy = table[table["row"] != "img"]
    assert (toy["width"] == 16).all() and (toy["ratio_to_a"] > 0).all() and (table["device"] == "cpu").all()
    assert table.loc[table["row"] == "a", "ratio_to_a"].item() == 1.0
    assert table.loc[table["row"] == "c", "seeds"].tolist() == [1, 2]
    assert (toy["ops_per_step"] > 0).all() and toy["random_draws"].tolist() == ["global", "direct", "direct", "direct"]
    assert table["torch"].nunique() == 1 and (table["steps"].tolist()[-1] == 2)


def test_stacked_seeds_with_buffered_draws_run_no_more_ops_per_seed(tmp_path):
    throughput.main(
        [
            "--device",
            "cpu",
            "--width",
            "8",
            "--steps",
            "1",
            "--warmup",
            "1",
            "--seeds",
            "2,8",
            "--draws",
            "buffered",
            "--no-images",
            "--out",
            str(tmp_path),
        ]
    )
    table = pd.read_csv(next(tmp_path.glob("*.csv"))).set_index("seeds")
    stacked = table[table["row"] == "c"]["ops_per_step"]
    assert (table[table["row"] != "a"]["random_draws"] == "buffered").all()
    # what still grows on a CPU is the per-seed loss, computed seed by seed there for exactness
    assert stacked[8] < 2 * stacked[2], stacked


def test_ops_are_counted_without_views():
    x = torch.ones(3, 4)
    assert timing.ops_per_step(lambda: (x.t() + 1).sum(), warmup=0) == 2  # add, sum
    assert timing.ops_per_step(lambda: (x.t().reshape(-1) + 1).sum(), warmup=0) == 3  # and reshape's copy


def test_gpu_busy_counts_overlapping_kernels_once():
    assert timing.busy_fraction([(0, 10), (5, 15), (20, 30), (22, 25)], 100) == pytest.approx(0.25)
    assert timing.busy_fraction([(0, 10)], 5) == 1.0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seeds", "0,4"], "positive integers"),
        (["--width", "wide"], "comma-separated integers"),
        (["--device", "gpu"], "choose auto, cpu, cuda or cuda:N"),
    ],
)
def test_bad_options_are_refused_before_any_work(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        throughput.main(argv + ["--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_population_benchmark_writes_a_row_per_path_and_size(tmp_path):
    from benchmarks import population

    argv = ["--device", "cpu", "--losses", "nonsaturating", "wgan-gp", "--mlps", "2x8", "--sizes", "1,3"]
    population.main([*argv, "--steps", "2", "--warmup", "1", "--repeats", "1", "--out", str(tmp_path)])
    (path,) = tmp_path.glob("population_cpu_*.csv")
    table = pd.read_csv(path)
    rows = ["plain loop", "suite, one run", "population P=1", "population P=3"]
    assert table["row"].tolist() == rows * 2 and (table["member_steps_per_s"] > 0).all()
    assert (table.loc[table["row"] == "plain loop", "x_plain"] == 1.0).all()
    # a critic step with a gradient penalty does more arithmetic than a plain GAN's step
    flops = table.groupby("loss")["flops_per_member_step"].first()
    assert flops["wgan-gp"] > flops["nonsaturating"] > 0


def test_population_benchmark_times_each_precision_side_by_side(tmp_path):
    from benchmarks import population

    argv = [
        "--device",
        "cpu",
        "--losses",
        "nonsaturating",
        "--mlps",
        "2x8",
        "--sizes",
        "2",
        "--precisions",
        "fp32",
        "bf16",
    ]
    population.main([*argv, "--steps", "2", "--warmup", "1", "--repeats", "1", "--out", str(tmp_path)])
    (path,) = tmp_path.glob("population_cpu_*.csv")
    rows = pd.read_csv(path)["row"].tolist()
    assert rows == ["plain loop", "suite, one run", "population P=2 fp32", "population P=2 bf16"]


def test_matmul_flops_are_counted_in_forward_and_backward():
    from benchmarks.population import CountMatmulFlops

    layer = torch.nn.Linear(8, 4)
    x = torch.randn(16, 8, requires_grad=True)
    with CountMatmulFlops() as counter:
        layer(x).sum().backward()
    assert counter.flops == 3 * 2 * 16 * 8 * 4  # forward, input gradient, weight gradient
