"""``fashiongraph ingest`` end to end on the bundled one-week sample."""

from __future__ import annotations

from fashiongraph.cli import main
from fashiongraph.data.dataset import Dataset
from fashiongraph.data.sample import lastweek_paths, sample_paths


def test_ingest_command_writes_the_dataset_and_prints_notes(tmp_path, capsys):
    lw = lastweek_paths()
    out = tmp_path / "lastweek"
    code = main(["ingest", "--articles", str(lw.articles), "--transactions",
                 str(lw.transactions), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert "customers:    34,520" in printed
    assert "transactions: 109,156 (120,336 units), 2020-09-16 .. 2020-09-22" in printed
    assert "were zero-padded" in printed and "kept as quantity" in printed
    ds = Dataset.load(out)
    assert int(ds.transactions["quantity"].sum()) == 120_336
    assert any("zero-padded" in n for n in ds.notes)


def test_ingest_command_reports_a_data_error(tmp_path, capsys):
    paths = sample_paths()
    bad = tmp_path / "tx.json"
    bad.write_text('{"rows": []}')
    code = main(["ingest", "--articles", str(paths.articles), "--transactions", str(bad),
                 "--customers", str(paths.customers), "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "fashiongraph ingest: error: tx.json: not a table: looks like JSON" in err
    assert not (tmp_path / "x").exists()
