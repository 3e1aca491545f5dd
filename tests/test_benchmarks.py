"""benchmarks/throughput.py: runs end to end with tiny settings and writes the CSV
it promises (no timing assertions: speed is for the benchmark to print)."""
import pandas as pd
import pytest

from benchmarks import throughput


def test_throughput_script_writes_a_row_per_setup(tmp_path, capsys):
    throughput.main(["--device", "cpu", "--width", "16", "--steps", "3", "--warmup", "2", "--seeds", "1,2",
                     "--image-steps", "2", "--image-width", "4", "--out", str(tmp_path)])
    (path,) = tmp_path.glob("throughput_cpu_*.csv")
    table = pd.read_csv(path)
    assert list(table.columns) == throughput.COLUMNS
    expected = ["a", "b"] + (["c", "c"] if throughput.batched_seeds_available() else []) + ["img"]
    assert table["row"].tolist() == expected
    assert (table["wall_s"] > 0).all() and (table["seed_steps_per_s"] > 0).all()
    toy = table[table["row"] != "img"]
    assert (toy["width"] == 16).all() and (toy["ratio_to_a"] > 0).all() and (table["device"] == "cpu").all()
    assert table.loc[table["row"] == "a", "ratio_to_a"].item() == 1.0
    if throughput.batched_seeds_available():
        assert table.loc[table["row"] == "c", "seeds"].tolist() == [1, 2]
    else:
        assert "(c) not available" in capsys.readouterr().out
    assert table["torch"].nunique() == 1 and (table["steps"].tolist()[-1] == 2)


def test_gpu_busy_counts_overlapping_kernels_once():
    assert throughput.busy_fraction([(0, 10), (5, 15), (20, 30), (22, 25)], 100) == pytest.approx(0.25)
    assert throughput.busy_fraction([(0, 10)], 5) == 1.0


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0,4"], "positive integers"),
    (["--width", "wide"], "comma-separated integers"),
    (["--device", "gpu"], "choose auto, cpu, cuda or cuda:N"),
])
def test_bad_options_are_refused_before_any_work(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        throughput.main(argv + ["--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
