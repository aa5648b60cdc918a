"""`archspec plot`: every spec renders to SVG and PNG with no system Graphviz on PATH (the
bundled graphviz-pure draws), PNGs are valid and legible, SVGs name every block; shortcuts and
Inception branches are drawn as such; errors are clear and nothing half-written is left."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from archspec import app as api
from archspec.core.errors import UsageError
from archspec.ir.graph import Graph
from archspec.render import dot
from archspec.render.text import macs_str
from tests.conftest import ROOT, SPECS, run_cli, spec_id, write

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNGs are rendered at 96 dpi: 1 pt of the layout = 4/3 px, so 10 pt text is ~13 px tall
PX_PER_PT = 96 / 72
#: expanded PNGs of bigger graphs take seconds to rasterise; they are drawn collapsed here and
#: expanded as SVG (the benchmark draws ResNet-152 expanded as PNG)
EXPANDED_PNG_MAX_LAYERS = 200


@pytest.fixture(autouse=True)
def no_system_dot(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """PATH holds only an empty folder: no `dot`, no graphviz-pure on PATH. The renderer must be
    found in the environment's scripts folder (sysconfig), as for an unactivated venv."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-bin")))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the PNG signature."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def svg_size_pt(svg: str) -> tuple[float, float]:
    m = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert m, svg[:300]
    return float(m.group(1)), float(m.group(2))


def svg_texts(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.fixture(scope="module")
def graphs() -> dict[Path, Graph]:
    return {p: api.analyze(p) for p in SPECS}


def test_renderer_is_graphviz_pure_from_the_scripts_folder():
    prog = dot.find_renderer()
    assert prog is not None and Path(prog).name == "graphviz-pure"
    assert Path(prog).parent == Path(sysconfig.get_path("scripts"))


@pytest.mark.parametrize("collapse", [False, True], ids=["expanded", "collapsed"])
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_svg_names_every_block(spec: Path, collapse: bool, graphs, tmp_path: Path):
    graph = graphs[spec]
    out = dot.plot(graph, tmp_path / "m.svg", collapse=collapse)
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and svg.rstrip().endswith("</svg>")
    texts = set(svg_texts(svg))
    # collapsed, a user-defined instance or an included spec is one box named after it; the
    # instances every block is in (ConvNeXt's whole-model `convnext_net`) are opened
    shared = 0
    while all(len(b.groups) > shared and b.groups[shared] == graph.blocks[0].groups[shared]
              for b in graph.blocks):  # fmt: skip
        shared += 1
    names = [b.groups[shared][0] if collapse and len(b.groups) > shared else b.name
             for b in graph.blocks]  # fmt: skip
    missing = [n for n in names if n not in texts]
    assert not missing, f"blocks not named in the SVG: {missing}"
    # the title (the model's name, then params and MACs) is drawn once: clusters must not
    # inherit it
    texts_in_order = svg_texts(svg)
    rest = f"{graph.params:,} params, {macs_str(graph.cost.macs)} MACs"
    titles = [
        k
        for k, t in enumerate(texts_in_order[:-1])
        if t == graph.name and texts_in_order[k + 1].endswith(rest)
    ]
    assert len(titles) == 1
    # the input and output shapes are drawn (edges and terminal nodes carry shapes)
    final = "x".join(str(d) for d in graph.shape_of(graph.outputs[0]))
    assert final in texts


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_png_is_valid_and_legible(spec: Path, graphs, tmp_path: Path):
    graph = graphs[spec]
    views = [True] + ([False] if len(graph.nodes) <= EXPANDED_PNG_MAX_LAYERS else [])
    for collapse in views:
        png = dot.plot(graph, tmp_path / "m.png", collapse=collapse).read_bytes()
        width, height = png_size(png)
        svg = dot.render(dot.to_pydot(graph, collapse=collapse), "svg").decode()
        w_pt, h_pt = svg_size_pt(svg)
        # drawn at 96 dpi, never shrunk to fit: text stays ~13 px tall
        assert abs(width - w_pt * PX_PER_PT) <= 2 and abs(height - h_pt * PX_PER_PT) <= 2
        if collapse:  # one column of boxes: narrow enough for a page or a PR
            assert width <= 4000, (width, height)


def test_collapsed_resnet50_width(tmp_path: Path):
    """The brief's figure: a collapsed ResNet-50 stays under about 4,000 px wide."""
    graph = api.analyze(ROOT / "specs" / "resnet50.yaml")
    assert graph.params == 25_636_712  # REFERENCE.md: keras.applications ResNet50
    width, height = png_size(dot.plot(graph, tmp_path / "r.png", collapse=True).read_bytes())
    assert width <= 4000 and height > width


def _edges(source: str) -> dict[tuple[str, str], str]:
    """(tail, head) -> the attribute text of each edge in a DOT source."""
    return {
        (m.group(1), m.group(2)): m.group(3)
        for m in re.finditer(r'"([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;', source)
    }


def _dashed(spec: Path) -> set[tuple[str, str]]:
    """The dashed (shortcut) edges of the expanded diagram of `spec`."""
    edges = _edges(dot.to_pydot(api.analyze(spec)).to_string())
    return {e for e, attrs in edges.items() if "dashed" in attrs}


def _blocks_spec(tmp_path: Path, *blocks: str) -> Path:
    return write(
        tmp_path, "name: r\ninput: [8, 8, 16]\nblocks:\n" + "".join(f"  - {b}\n" for b in blocks)
    )


def test_residual_shortcut_is_dashed_and_main_path_is_not():
    # the tutorial's projection: input -> residual_1_0_conv (1x1) -> add; the main path is solid
    assert _dashed(ROOT / "specs/seed/residual_module.yaml") == {
        ("in:input", "residual_1_0_conv"),
        ("residual_1_0_conv", "residual_1_add"),
    }


def test_identity_shortcut_is_dashed(tmp_path: Path):
    spec = _blocks_spec(
        tmp_path,
        "{type: residual, name: a, n_filters: 16}",
        "{type: residual, name: b, n_filters: 16}",
    )
    # identity shortcuts: the block input straight into the add
    assert _dashed(spec) == {("in:input", "a_add"), ("a_out", "b_add")}


def test_shortcut_of_a_residual_written_with_add_blocks(tmp_path: Path):
    spec = _blocks_spec(
        tmp_path,
        "{type: conv, name: stem, filters: 16, kernel: 3}",
        "{type: conv, name: c1, filters: 16, kernel: 3, activation: relu}",
        "{type: conv, name: c2, filters: 16, kernel: 3}",
        "{type: conv, name: proj, filters: 16, kernel: 1, inputs: stem}",
        "{type: add, name: sum, inputs: [c2, proj]}",
    )
    # stem forks: c1 -> c2 is the main path, stem -> proj -> sum the shortcut
    assert _dashed(spec) == {("stem", "proj"), ("proj", "sum")}


def test_inception_branches_start_side_by_side_in_order():
    graph = api.analyze(ROOT / "specs/seed/inception_two_modules.yaml")
    source = dot.to_pydot(graph).to_string()
    for block in ("inception_3a", "inception_3b"):
        heads = [f"{block}_b1_conv", f"{block}_b2_reduce", f"{block}_b3_reduce", f"{block}_b4_pool"]
        chain = " -> ".join(f'"{n}"' for n in heads)
        same = re.search(
            r"subgraph \{\s*rank=same;(.*?)\}", source.split(f"cluster_block_{block}")[1], re.S
        )
        assert same is not None
        # the header, then the four branches left to right, in the tutorial's order
        order = re.findall(r'"([^"]+)" -> "([^"]+)"', same.group(1))
        assert [a for a, _ in order] + [order[-1][1]] == [f"hdr:{block}", *heads], chain


def test_the_main_path_of_a_deep_network_is_drawn_straight():
    """The longest path through the layers is one column: DenseNet-121's dense layers drifted
    sideways by a few points each (540 pt from top to bottom, a PNG three times as wide as
    its drawing) under graphviz-pure, pushed aside by the skips into each concat."""
    graph = api.analyze(ROOT / "specs/families/densenet.yaml")
    svg = dot.render(dot.to_pydot(graph), "svg").decode()
    xs = [float(x) for x in re.findall(
        r"<title>conv\d_block\d+_concat</title>\n<path[^>]*/>\n<text[^>]* x=\"([-\d.]+)\"", svg
    )]  # fmt: skip
    assert len(xs) == 58  # the 6 + 12 + 24 + 16 dense layers
    assert max(xs) - min(xs) < 20, (min(xs), max(xs))


def test_collapse_draws_one_box_per_block():
    graph = api.analyze(ROOT / "specs/vgg16.yaml")
    source = dot.to_pydot(graph, collapse=True).to_string()
    assert "cluster" not in source
    for b in graph.blocks:
        assert re.search(rf'^"{b.name}" \[label=<', source, re.M), b.name
    assert not any(
        f'"{n}"' in source for n in graph.nodes if n not in {b.name for b in graph.blocks}
    )


def test_rankdir_lr(tmp_path: Path):
    graph = api.analyze(ROOT / "specs/seed/vgg_three_blocks.yaml")
    tb = svg_size_pt(dot.plot(graph, tmp_path / "tb.svg", collapse=True).read_text())
    lr = svg_size_pt(dot.plot(graph, tmp_path / "lr.svg", collapse=True, rankdir="LR").read_text())
    assert tb[1] > tb[0] and lr[0] > lr[1]


def test_dot_output_needs_no_renderer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(dot.sysconfig, "get_path", lambda name: str(tmp_path))
    assert dot.find_renderer() is None
    graph = api.analyze(ROOT / "specs/seed/vgg_one_block.yaml")
    source = dot.plot(graph, tmp_path / "m.dot").read_text()
    assert source.startswith('digraph "vgg_one_block"') and "vgg_1_conv1" in source
    with pytest.raises(UsageError) as e:
        dot.plot(graph, tmp_path / "m.png")
    d = e.value.diagnostics[0]
    assert d.code == "E004" and "graphviz-pure" in (d.hint or "") and ".dot" in (d.hint or "")
    assert not (tmp_path / "m.png").exists()


def test_pdf_needs_a_system_graphviz(tmp_path: Path):
    graph = api.analyze(ROOT / "specs/seed/vgg_one_block.yaml")
    with pytest.raises(UsageError) as e:
        dot.plot(graph, tmp_path / "m.pdf")
    assert e.value.diagnostics[0].code == "E004"
    assert "install Graphviz" in (e.value.diagnostics[0].hint or "")


def test_failed_render_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "m.svg"
    target.write_text("old")
    graph = api.analyze(ROOT / "specs/seed/vgg_one_block.yaml")

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(dot, "render", broken)
    with pytest.raises(RuntimeError):
        dot.plot(graph, target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.svg"]


# ---------------------------------------------------------------- the command line


def test_cli_default_output_name(tmp_path: Path):
    spec = ROOT / "specs/seed/inception_naive.yaml"
    r = run_cli("plot", str(spec), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Wrote: inception_naive.svg"
    assert "inception_naive_1" in (tmp_path / "inception_naive.svg").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["inception_naive.svg"]


def test_cli_png_collapsed_lr(tmp_path: Path):
    out = tmp_path / "v.png"
    r = run_cli(
        "plot", str(ROOT / "specs/vgg16.yaml"), "-o", str(out), "--collapse", "--rankdir", "lr"
    )
    assert r.returncode == 0, r.stderr
    width, height = png_size(out.read_bytes())
    assert width > height


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "m.jpg"], "cannot tell the diagram format of m.jpg"),
        (["-o", "m.jpg"], "use one of: .svg, .png, .dot, .pdf, or .html (the interactive page)"),
        (["-o", "missing/m.svg"], "folder missing does not exist"),
        (["-o", "m.svg", "--rankdir", "BT"], "--rankdir must be one of TB, LR"),
        (["-o", "m.pdf"], "PDF needs a system Graphviz"),
        # the page runs top to bottom: LR was ignored without a word (a walkthrough)
        (["-o", "m.html", "--rankdir", "lr"], "--rankdir LR: an .html page is laid out top to"),
    ],
)
def test_cli_usage_errors(args: list[str], message: str, tmp_path: Path):
    r = run_cli("plot", str(ROOT / "specs/seed/vgg_one_block.yaml"), *args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_broken_spec_writes_nothing(tmp_path: Path):
    spec = tmp_path / "b.yaml"
    spec.write_text("name: b\ninput: [8, 8, 3]\nblocks:\n  - {type: vgg, n_filter: 8, n_conv: 1}\n")
    r = run_cli("plot", str(spec), cwd=tmp_path)
    assert r.returncode == 1 and "did you mean `n_filters`?" in r.stderr
    assert not (tmp_path / "b.svg").exists()


def test_plot_never_imports_tensorflow(tmp_path: Path):
    code = (
        "import sys\n"
        "from archspec.cli import app\n"
        f"app(['plot', {str(ROOT / 'specs/seed/residual_module.yaml')!r}, "
        f"'-o', {str(tmp_path / 'r.png')!r}], standalone_mode=False)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = run_cli_code(code)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "r.png").exists()


def run_cli_code(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_user_defined_blocks_are_boxed(tmp_path: Path):
    spec = tmp_path / "d.yaml"
    spec.write_text(
        "name: d\ninput: [16, 16, 3]\n"
        "define:\n  conv_bn_relu:\n    params: {filters: null}\n    blocks:\n"
        '      - {type: conv, filters: "${filters}", kernel: 3, use_bias: false}\n'
        "      - {type: batch_norm}\n"
        "      - {type: activation, activation: relu}\n"
        "blocks:\n  - {type: conv_bn_relu, name: stem, filters: 8, repeat: 2}\n"
        "  - {type: global_avg_pool}\n"
    )
    graph = api.analyze(spec)
    instances = {b.group for b in graph.blocks if b.group}
    assert instances == {("stem_1", "conv_bn_relu"), ("stem_2", "conv_bn_relu")}
    for collapse in (False, True):
        svg = dot.plot(graph, tmp_path / "d.svg", collapse=collapse).read_text()
        texts = svg_texts(svg)
        for name, type_ in instances:
            # one dashed box per instance, labelled with its name and its defined type;
            # collapsed, the instance is one box and its blocks are not drawn
            box = f"group:{name}" if collapse else f"cluster_group_{name}"
            assert f"<title>{box}</title>" in svg
            k = texts.index(name)
            after = [t for t in texts[k + 1 :] if t.replace("&#160;", "").strip()]
            assert after[0] == type_
        assert all((b.name in texts) != collapse for b in graph.blocks if b.group)


def test_plugin_families_get_a_palette(monkeypatch: pytest.MonkeyPatch):
    from archspec.blocks import REGISTRY

    class Plugin:
        family = "mobilenet"

    monkeypatch.setitem(REGISTRY, "depthwise_test", Plugin)  # type: ignore[arg-type]
    pal = dot.palette("depthwise_test")
    assert pal in dot.EXTRA_FAMILIES and pal == dot.palette("depthwise_test")
    assert dot.palette("vgg") == dot.FAMILIES["vgg"]


def test_several_inputs_and_outputs(tmp_path: Path):
    spec = tmp_path / "m.yaml"
    spec.write_text(
        "name: multi\ninputs: {image: [32, 32, 3], meta: [10]}\nblocks:\n"
        "  - {type: conv, name: c, filters: 8, kernel: 3, inputs: image}\n"
        "  - {type: global_avg_pool, name: g}\n"
        "  - {type: dense, name: m, units: 8, inputs: meta}\n"
        "  - {type: concat, name: both, inputs: [g, m]}\n"
        "  - {type: dense, name: head_a, units: 2, inputs: both}\n"
        "  - {type: dense, name: head_b, units: 3, inputs: both}\n"
        "outputs: [head_a, head_b]\n"
    )
    graph = api.analyze(spec)
    for collapse in (False, True):
        source = dot.to_pydot(graph, collapse=collapse).to_string()
        edges = _edges(source)
        # a block of one layer gives it its own name: the same edge in both views
        assert ("head_a", "out:0") in edges and ("head_b", "out:1") in edges
        assert ("in:image", "c") in edges and ("in:meta", "m") in edges
        svg = dot.render(dot.to_pydot(graph, collapse=collapse), "svg").decode()
        texts = svg_texts(svg)
        assert {"image", "32x32x3", "meta", "10", "head_a", "head_b"} <= set(texts)
        assert texts.count("output") == 2


def test_the_title_names_the_sets_of_a_family_member(tmp_path: Path):
    out = api.plot(ROOT / "specs/families/efficientnet.yaml", tmp_path / "b3.dot",
                   sets=["variant=b3"], collapse=True)  # fmt: skip
    assert "<B>efficientnet_b3 variant=b3</B>   12,320,535 params" in out.read_text()
    page = api.plot(ROOT / "specs/families/efficientnet.yaml", tmp_path / "b3.html",
                    sets=["variant=b3"])  # fmt: skip
    assert "efficientnet_b3 variant=b3" in page.read_text()


def test_two_family_members_plot_to_two_default_files(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = ROOT / "specs/families/densenet.yaml"
    first = api.plot(spec, sets=["depth=121"], collapse=True)
    second = api.plot(spec, sets=["depth=169"], collapse=True)  # no E002: another file
    assert (first, second) == (Path("densenet_121.svg"), Path("densenet_169.svg"))
    assert "densenet169 depth=169" in second.read_text()
    assert api.plot(spec, collapse=True) == Path("densenet.svg")
    # values are made file-name safe
    assert api.default_plot("x.yaml", ["input=[224, 224, 3]", "w=1/2", "bad"]) == Path(
        "x_224_224_3_1_2.svg"
    )
    # a name set twice: its last value, as the title; a sign is kept
    assert api.default_plot("e.yaml", ["variant=b0", "variant=b7"]) == Path("e_b7.svg")
    # a zoo name in any spelling is its file's, a member its family's with its value (a review
    # found `plot ResNet50` and `plot resnet50` writing two files)
    assert (
        api.default_plot("ResNet50", []) == api.default_plot("resnet50", []) == Path("resnet50.svg")
    )
    assert api.default_plot("EfficientNetB3", []) == Path("efficientnet_b3.svg")
    assert api.default_plot("efficientnet", ["variant=b3"]) == Path("efficientnet_b3.svg")
    assert api.default_plot("e.yaml", ["x=-1"]) != api.default_plot("e.yaml", ["x=1"])
    # in the params' names' order: one model in either order is one file, and two models whose
    # values were swapped are two (a sweep got E002 and wrote one name for two models)
    assert api.default_plot("s.yaml", ["width=2", "depth=1"]) == Path("s_1_2.svg")
    assert api.default_plot("s.yaml", ["depth=1", "width=2"]) == Path("s_1_2.svg")
    assert api.default_plot("s.yaml", ["depth=2", "width=1"]) == Path("s_2_1.svg")
    assert api.default_plot("EfficientNetB3", ["resolution=192"]) == api.default_plot(
        "efficientnet", ["resolution=192", "variant=b3"]) == Path("efficientnet_b3_192.svg")  # fmt: skip
    # a long list: cut, and told apart from another by a digest (it crashed: file name too long)
    long = [api.default_plot("t.yaml", [f"tag=[{', '.join([v] * 100)}]"]) for v in ("64", "65")]
    assert all(len(p.name) <= 110 and p.name.startswith("t_64_64_") for p in long[:1])
    assert long[0] != long[1] and all(p.suffix == ".svg" for p in long)
    wide = api.default_plot("t.yaml", ["tag=" + "\u6f22" * 98])  # 3 bytes a character
    assert len(wide.name.encode()) <= 110 and wide.name.startswith("t_\u6f22")
