"""tests/fixtures/sf_convert.py: a conversion is served from the store only for the same
folder files, options and project files; any change runs sf again."""

from pathlib import Path

from tests.fixtures.sf_convert import COMMAND, remembering


def test_a_kept_conversion_is_served_only_for_the_same_inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sfdx-project.json").write_text("{}")
    source = tmp_path / "force-app"
    source.mkdir()
    (source / "a.flow-meta.xml").write_text("one")
    store = tmp_path / "store"
    store.mkdir()
    runs = []

    def sf(command, args=None, **kwargs):  # stands in for sf: its output names the run
        runs.append(command)
        target = Path(args[args.index("-d") + 1])
        target.mkdir(exist_ok=True)
        (target / "package.xml").write_text(f"run {len(runs)}")
        return "result"

    convert = remembering(sf, store)

    def output(name):
        target = tmp_path / name
        convert(COMMAND, args=["-d", str(target), "-r", "force-app"], check_return=True)
        return (target / "package.xml").read_text()

    assert output("first") == "run 1"
    assert output("again") == "run 1" and len(runs) == 1  # served from the store
    (source / "a.flow-meta.xml").write_text("two")
    assert output("edited") == "run 2"
    (tmp_path / ".forceignore").write_text("**/a.flow-meta.xml\n")
    assert output("ignored") == "run 3"
    (tmp_path / "sfdx-project.json").write_text('{"sourceApiVersion": "63.0"}')
    assert output("project") == "run 4"
    convert(COMMAND, args=["-d", str(tmp_path / "named"), "-r", "force-app", "-n", "x"])
    assert len(runs) == 5  # other options: sf again
    assert output("last") == "run 4" and len(runs) == 5
    assert convert("org display", args=["-d", "x", "-r", "y"]) == "result"
    assert runs[-1] == "org display"  # not a conversion: always sf
