"""Speech to text through the running app: formats, both test models, timestamps, subtitles, long audio,
progress, the show-code snippet, espeak-ng speech, and every bad input (also without ffmpeg)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from conftest import RunningApp, catalog_variant, launch_app
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from page_helpers import open_tab
from snippets import last_line, run_snippet

RATE = 16000
WHISPER = "Whisper (test)"
WAV2VEC2 = "Wav2Vec2 CTC (test)"
LONG_SECONDS = 300
SPEECH = "The quick brown fox jumps over the lazy dog. Speech recognition turns sound into text."


def tone(seconds: float, rate: int = RATE, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    return np.stack([wave] * channels, axis=1).astype(np.float32) if channels > 1 else wave.astype(np.float32)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    sf.write(folder / "tone.wav", tone(2.0), RATE)
    sf.write(folder / "stereo44k.flac", tone(2.0, 44100, channels=2), 44100)
    sf.write(folder / "tone.ogg", tone(2.0, 22050), 22050)
    sf.write(folder / "silence.wav", np.zeros(RATE, dtype=np.float32), RATE)
    for ext in ("mp3", "m4a"):
        ffmpeg("-i", str(folder / "tone.wav"), str(folder / f"tone.{ext}"))
    ffmpeg("-i", str(folder / "tone.wav"), "-c:a", "libopus", str(folder / "tone.opus"))  # Ogg/Opus
    ffmpeg("-i", str(folder / "tone.wav"), "-c:a", "libopus", str(folder / "tone.webm"))
    video = ["-f", "lavfi", "-i", "color=c=black:s=64x64:d=2", "-i", str(folder / "tone.wav"), "-shortest"]
    ffmpeg(*video, "-c:v", "libx264", "-c:a", "aac", str(folder / "video.mp4"))
    ffmpeg(*video, "-c:v", "libvpx", "-c:a", "libvorbis", str(folder / "video.webm"))
    sf.write(folder / "long.wav", tone(LONG_SECONDS, 8000), 8000)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "text.wav").write_text("this is not audio at all\n" * 50)
    full = (folder / "tone.wav").read_bytes()
    (folder / "truncated.mp3").write_bytes((folder / "tone.mp3").read_bytes()[:40])
    (folder / "truncated.wav").write_bytes(full[:30])
    (folder / "header_only.wav").write_bytes(full[:44])
    # 61 minutes at a low rate keeps the file small; the limit is checked from the header.
    sf.write(folder / "too_long.wav", np.zeros(61 * 60 * 1000, dtype=np.int16), 1000, subtype="PCM_16")
    sf.write(folder / "big.wav", tone(40.0), RATE, subtype="PCM_16")  # 1.3 MB
    return folder


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real speech from espeak-ng: a sentence, and 40 s of it (chunked)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (as root, `make test` installs it: apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("speech")
    subprocess.run(["espeak-ng", "-w", str(folder / "speech.wav"), SPEECH], check=True)
    subprocess.run(
        ["espeak-ng", "-s", "120", "-w", str(folder / "long_speech.wav"), " ".join([SPEECH] * 6)], check=True
    )
    return folder


def run(client, path: Path, model: str = WHISPER, *args, **options):  # noqa: ANN001, ANN002, ANN201
    return client.predict(handle_file(str(path)), model, *args, api_name="/transcribe", **options)


def data(table) -> list[list]:  # noqa: ANN001
    rows = table["data"] if isinstance(table, dict) else table
    return [[float(a), float(b), c] for a, b, c in rows]


def seconds(clock: str) -> float:
    return int(clock[:2]) * 3600 + int(clock[3:5]) * 60 + float(clock[6:].replace(",", "."))


def parse_cues(text: str, vtt: bool) -> list[tuple[float, float, list[str]]]:
    """(start, end, lines) of every cue; asserts the SRT/WebVTT block layout."""
    if vtt:
        assert text.startswith("WEBVTT\n\n")
        text = text[len("WEBVTT\n\n") :]
    cues = []
    for number, block in enumerate(filter(None, text.split("\n\n")), 1):
        lines = block.strip("\n").split("\n")
        if not vtt:
            assert lines.pop(0) == str(number)
        match = re.fullmatch(r"(\S+) --> (\S+)", lines[0])
        assert match, block
        pattern = r"\d\d:\d\d:\d\d\.\d{3}" if vtt else r"\d\d:\d\d:\d\d,\d{3}"
        assert re.fullmatch(pattern, match[1]) and re.fullmatch(pattern, match[2])
        assert lines[1:], f"cue without text: {block!r}"
        cues.append((seconds(match[1]), seconds(match[2]), lines[1:]))
    return cues


def squash(text: str) -> str:
    """Text without whitespace: line wrapping may split long words."""
    return "".join(text.split())


def check_subtitles(rows: list[list], srt_path: str, vtt_path: str, width: int, max_words: int = 0) -> None:
    """Both files well-formed, saying the same, and consistent with the segment table: the cues' text is
    the rows' text, and each cue lies within the time of the rows its text comes from."""
    srt = parse_cues(Path(srt_path).read_text(encoding="utf-8"), vtt=False)
    vtt = parse_cues(Path(vtt_path).read_text(encoding="utf-8"), vtt=True)
    assert srt == vtt
    texted = [r for r in rows if r[2].strip()]
    assert squash("".join(" ".join(lines) for _, _, lines in vtt)) == squash("".join(r[2] for r in texted))
    ends = np.cumsum([len(squash(r[2])) for r in texted])  # where each row's text ends in the squashed whole
    word_starts = np.cumsum([0] + [len(word) for r in texted for word in r[2].split()])[:-1]
    position = 0
    for start, end, lines in vtt:
        assert start <= end
        assert all(len(line) <= width for line in lines), lines
        size = len(squash("".join(lines)))
        if max_words:  # counted in the rows' words: wrapping may break a long word over two lines
            assert np.count_nonzero((word_starts >= position) & (word_starts < position + size)) <= max_words
        first, last = (
            int(np.searchsorted(ends, position, side="right")),
            int(np.searchsorted(ends, position + size - 1, side="right")),
        )
        assert texted[first][0] - 0.002 <= start and end <= texted[last][1] + 0.002, (
            start,
            end,
            texted[first : last + 1],
        )
        position += size


@pytest.mark.parametrize(
    "name",
    [
        "tone.wav",
        "stereo44k.flac",
        "tone.ogg",
        "tone.opus",
        "tone.mp3",
        "tone.m4a",
        "tone.webm",
        "video.mp4",
        "video.webm",
    ],
)
def test_formats(client, audio_dir: Path, name: str) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = run(client, audio_dir / name)
    assert isinstance(text, str)
    rows = data(table)
    assert all(0 <= r[0] <= r[1] <= 2.1 for r in rows)
    assert re.search(r"\*\*Audio:\*\* 2\.0 s", stats), stats
    assert "Real-time factor" in stats
    assert "automatic-speech-recognition" in code and "pipe(" in code and repr(name) in code
    check_subtitles(rows, srt, vtt, 42)


def test_silence_gives_empty_text_and_a_note(client, audio_dir: Path) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = run(client, audio_dir / "silence.wav")
    assert text == ""
    assert data(table) == []
    assert "No speech detected" in stats and "silent" in stats
    assert Path(srt).read_text() == "" and Path(vtt).read_text() == "WEBVTT\n\n"


@pytest.mark.parametrize("model", [WHISPER, WAV2VEC2])
@pytest.mark.parametrize("timestamps", ["segment", "word"])
def test_timestamps_and_subtitles(client, audio_dir: Path, model: str, timestamps: str) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = run(
        client, audio_dir / "tone.wav", model, timestamps=timestamps, max_chars_per_line=20
    )
    rows = data(table)
    check_subtitles(rows, srt, vtt, 20)
    assert (len(parse_cues(Path(vtt).read_text(), vtt=True))) == len([r for r in rows if r[2]])
    if model == WAV2VEC2 and timestamps == "segment":
        assert "CTC" in stats


@pytest.mark.parametrize(("model", "timestamps"), [(WAV2VEC2, "word"), (WHISPER, "word"), (WHISPER, "segment")])
def test_words_per_cue(client, audio_dir: Path, model: str, timestamps: str) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = run(
        client, audio_dir / "tone.wav", model, "transcribe", "auto", timestamps, 30, 3
    )
    rows = data(table)
    check_subtitles(rows, srt, vtt, 30, max_words=3)
    words = sum(len(r[2].split()) for r in rows)
    cues = parse_cues(Path(srt).read_text(), vtt=False)
    assert words == 0 or len(cues) >= -(-words // 3) or timestamps == "segment"


def test_ctc_ignores_whisper_options(client, audio_dir: Path) -> None:  # noqa: ANN001
    *_, stats, code = run(client, audio_dir / "tone.wav", WAV2VEC2, task="translate", language="ko", timestamps="off")
    assert "CTC" in stats
    assert "generate_kwargs" not in code
    *_, stats, code = run(client, audio_dir / "tone.wav", WAV2VEC2, language="klingon", timestamps="off")
    assert "CTC" in stats


@pytest.mark.parametrize(("language", "code"), [("ko", "ko"), ("Korean", "ko"), ("de", "de")])
def test_language_by_code_or_name(client, audio_dir: Path, language: str, code: str) -> None:  # noqa: ANN001
    *_, snippet = run(client, audio_dir / "tone.wav", WHISPER, task="translate", language=language, timestamps="off")
    assert f"generate_kwargs={{'task': 'translate', 'language': '{code}'}}" in snippet


def test_unknown_language_is_explained(client, audio_dir: Path) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match="does not know the language 'klingon'"):
        run(client, audio_dir / "tone.wav", WHISPER, language="klingon")


def test_language_dropdown_lists_every_whisper_language(app: RunningApp) -> None:
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    with urllib.request.urlopen(app.url + "config", timeout=10) as response:
        config = json.load(response)
    dropdowns = [c["props"] for c in config["components"] if c.get("type") == "dropdown"]
    # The speech tab's language picker (translation has one too, without "auto").
    values = next(
        [choice[1] for choice in d["choices"]]
        for d in dropdowns
        if [choice[1] for choice in d["choices"]][:1] == ["auto"]
    )
    assert values == ["auto", *LANGUAGES]
    assert len(values) > 99


def test_long_audio_is_chunked_with_progress(client, audio_dir: Path) -> None:  # noqa: ANN001
    job = client.submit(
        handle_file(str(audio_dir / "long.wav")), WAV2VEC2, "transcribe", "auto", "word", api_name="/transcribe"
    )
    seen: list[tuple] = []
    while not job.done():
        for unit in job.status().progress_data or []:
            if unit.unit == "chunks" and (unit.index, unit.length) not in seen:
                seen.append((unit.index, unit.length))
        time.sleep(0.005)
    text, table, srt, vtt, stats, code = job.result()
    assert "chunk_length_s=30" in code and "batch_size=4" in code
    assert f"{LONG_SECONDS:.1f} s" in stats
    rows = data(table)
    assert all(0 <= r[0] <= r[1] <= LONG_SECONDS for r in rows)
    check_subtitles(rows, srt, vtt, 42)
    windows = -(-(LONG_SECONDS - 30) // 20) + 1  # 30 s windows, 20 s apart (5 s context each side)
    assert seen, "the progress bar never moved"
    assert {length for _, length in seen} == {windows}
    assert len(seen) >= 2 and [index for index, _ in seen] == sorted(index for index, _ in seen)


@pytest.mark.parametrize(
    ("name", "model", "timestamps"),
    [("stereo44k.flac", WHISPER, "segment"), ("tone.m4a", WAV2VEC2, "word"), ("long.wav", WAV2VEC2, "off")],
)
def test_show_code_snippet_reproduces_the_app(
    client, audio_dir: Path, test_models: Path, name: str, model: str, timestamps: str
) -> None:  # noqa: ANN001
    text, table, *_, code = run(client, audio_dir / name, model, timestamps=timestamps)
    # Catalog paths are relative to models.yaml: run where the catalog lives, with the named file there.
    stdout = run_snippet(code, {name: audio_dir / name}, timeout=600, cwd=test_models)
    # CTC word timestamps print as np.float64(...).
    printed = eval(last_line(stdout), {"__builtins__": {}, "np": np})  # noqa: S307
    assert printed["text"].strip() == text
    rows = data(table)
    if timestamps != "off":
        assert [c["text"].strip() for c in printed["chunks"] if c["text"].strip()] == [r[2] for r in rows if r[2]]


def test_espeak_speech(client, speech_dir: Path) -> None:  # noqa: ANN001
    duration = sf.info(str(speech_dir / "speech.wav")).duration
    for model in (WHISPER, WAV2VEC2):
        text, table, srt, vtt, stats, code = run(client, speech_dir / "speech.wav", model, timestamps="word")
        rows = data(table)
        assert all(0 <= r[0] <= r[1] <= duration + 0.001 for r in rows)
        assert f"**Audio:** {duration:.1f} s" in stats
        assert "silent" not in stats, "real speech is not mistaken for silence"
        check_subtitles(rows, srt, vtt, 42)
        assert "soundfile" in code and "'speech.wav'" in code


def test_espeak_long_speech_is_chunked(client, speech_dir: Path) -> None:  # noqa: ANN001
    duration = sf.info(str(speech_dir / "long_speech.wav")).duration
    assert duration > 30
    text, table, srt, vtt, stats, code = run(
        client, speech_dir / "long_speech.wav", WAV2VEC2, "transcribe", "auto", "word", 42, 5
    )
    assert "chunk_length_s=30" in code
    rows = data(table)
    assert all(0 <= r[0] <= r[1] <= duration + 0.001 for r in rows)
    check_subtitles(rows, srt, vtt, 42, max_words=5)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.wav", "empty"),
        ("text.wav", "could not be read as audio"),
        ("truncated.wav", "could not be read as audio"),
        ("truncated.mp3", "could not be read as audio"),
        ("header_only.wav", "no samples"),
        ("too_long.wav", "limit is 60 minutes"),
    ],
)
def test_bad_inputs(client, audio_dir: Path, name: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match=message):
        run(client, audio_dir / name)
    assert run(client, audio_dir / "tone.wav", WAV2VEC2)[0] is not None, "the app keeps serving"


def test_too_short_audio_is_refused_with_its_length(client, tmp_path: Path) -> None:  # noqa: ANN001
    """A truncated 400-byte MP3 decodes to a few ms of audio: refused, not "transcribed"."""
    sf.write(tmp_path / "tone.wav", tone(2.0), RATE)
    ffmpeg("-i", str(tmp_path / "tone.wav"), "-b:a", "32k", str(tmp_path / "tone.mp3"))
    (tmp_path / "cut.mp3").write_bytes((tmp_path / "tone.mp3").read_bytes()[:400])
    with pytest.raises(AppError, match=r"The audio is only [0-9] ms long .* at least 100 ms are needed"):
        run(client, tmp_path / "cut.mp3")
    sf.write(tmp_path / "blip.wav", tone(0.05), RATE)
    with pytest.raises(AppError, match=r"only 50 ms long"):
        run(client, tmp_path / "blip.wav", WAV2VEC2)
    sf.write(tmp_path / "short.wav", tone(0.15), RATE)
    assert run(client, tmp_path / "short.wav", WAV2VEC2)[0] is not None, "150 ms is long enough"


def test_bad_options(client, audio_dir: Path) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match=r"timestamps: 'sentence' is not one of: off, segment, word"):
        run(client, audio_dir / "tone.wav", timestamps="sentence")


@pytest.fixture(scope="module")
def restricted_app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """A second app with no ffmpeg/ffprobe on its PATH and a 0.5 MB upload limit."""
    folder = tmp_path_factory.mktemp("restricted")
    catalog = catalog_variant(test_catalog, folder / "models.yaml", max_upload_mb=0.5)
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    running = launch_app(catalog, folder, "--tabs", "speech_to_text", env={"PATH": str(bin_dir)})
    yield running
    running.stop()


def test_without_ffmpeg_soundfile_formats_still_work(restricted_app: RunningApp, audio_dir: Path) -> None:
    client = restricted_app.client()
    # libsndfile (bundled with soundfile) also reads MP3 and Ogg/Opus.
    for name in ("tone.wav", "stereo44k.flac", "tone.ogg", "tone.opus", "tone.mp3"):
        text, table, srt, vtt, stats, code = run(client, audio_dir / name, WAV2VEC2)
        assert "**Audio:** 2.0 s" in stats, name
        assert "import soundfile" in code and "ffmpeg" not in code
    for name in ("tone.m4a", "tone.webm", "video.mp4"):
        with pytest.raises(AppError, match="needs ffmpeg, which is not installed"):
            run(client, audio_dir / name, WAV2VEC2)


def test_upload_over_the_size_limit(restricted_app: RunningApp, audio_dir: Path) -> None:
    with pytest.raises(Exception, match="(?i)file size|too large|exceeds"):
        run(restricted_app.client(), audio_dir / "big.wav", WAV2VEC2)


def test_whisper_options_follow_the_model_config(test_models: Path) -> None:
    from tabs.speech_to_text.task import has_whisper_options

    assert has_whisper_options(str(test_models / "whisper")) is True
    assert has_whisper_options(str(test_models / "wav2vec2")) is False


def test_whisper_options_hide_for_ctc_in_the_browser(app: RunningApp) -> None:
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (as root, `make test` installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="en-US")
            page.goto(app.url, wait_until="networkidle")
            open_tab(page, "speech_to_text")
            task = page.get_by_text("Task (Whisper only)")
            task.wait_for(state="visible", timeout=30_000)
            picker = page.get_by_label("Model").locator("visible=true").first  # other tabs have a Model picker too
            picker.click()
            page.get_by_role("option", name=WAV2VEC2).click()
            task.wait_for(state="hidden", timeout=15_000)
            assert not page.get_by_text("Language (Whisper only)").is_visible()
            picker.click()
            page.get_by_role("option", name=WHISPER).click()
            task.wait_for(state="visible", timeout=15_000)
        finally:
            browser.close()


# ---- the API with defaults, the shipped example, show code, catalogs with one kind of model -------

EXAMPLE_CLIP = Path(__file__).resolve().parents[1] / "assets" / "examples" / "speech" / "welcome.ogg"


def test_only_the_audio_is_required(client, test_catalog: Path) -> None:  # noqa: ANN001
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/transcribe"]["parameters"]
    assert [p["parameter_name"] for p in params if not p["parameter_has_default"]] == ["audio"]
    defaults = {p["parameter_name"]: p["parameter_default"] for p in params if p["parameter_has_default"]}
    entries = yaml.safe_load(test_catalog.read_text())["tabs"]["speech_to_text"]["models"]
    # The same defaults as the page: the tab's default model and the widgets' starting values.
    assert defaults == {
        "model": next(e["id"] for e in entries if e.get("default")),
        "task": "transcribe",
        "language": "auto",
        "timestamps": "segment",
        "max_chars_per_line": 42,
        "max_words_per_cue": 0,
    }


def test_the_audio_alone_is_enough(client) -> None:  # noqa: ANN001
    text, table, srt, vtt, stats, code = client.predict(handle_file(str(EXAMPLE_CLIP)), api_name="/transcribe")
    duration = sf.info(str(EXAMPLE_CLIP)).duration
    assert f"**Audio:** {duration:.1f} s" in stats and "silent" not in stats
    assert "return_timestamps=True" in code and "'welcome.ogg'" in code  # segment timestamps, the default
    check_subtitles(data(table), srt, vtt, 42)


def test_the_example_clip_is_short_speech() -> None:
    info = sf.info(str(EXAMPLE_CLIP))
    assert EXAMPLE_CLIP.stat().st_size <= 100_000
    assert info.channels == 1 and 1.0 < info.duration < 5.0


def test_words_per_cue_must_be_a_whole_number(client, audio_dir: Path) -> None:  # noqa: ANN001
    with pytest.raises(AppError, match="max_words_per_cue must be a whole number from 0 to 40"):
        run(client, audio_dir / "tone.wav", WAV2VEC2, max_words_per_cue=2.5)


@pytest.mark.parametrize("model", [WHISPER, WAV2VEC2])
def test_show_code_loads_the_model_as_the_app_did(client, audio_dir: Path, model: str) -> None:  # noqa: ANN001
    from snippet_calls import assert_loads_as_the_app, call_arguments

    *_, code = run(client, audio_dir / "tone.wav", model)
    loaded = next(m for m in client.predict(api_name="/loaded_models") if m["label"] == model)
    args, kwargs = call_arguments(code, "pipeline")
    assert args == ["automatic-speech-recognition"] and kwargs.pop("model") == loaded["id"]
    assert_loads_as_the_app(kwargs, loaded["load_kwargs"])


@pytest.mark.parametrize("kind", ["whisper", "wav2vec2"])
def test_a_catalog_with_one_kind_of_speech_model_starts(
    test_catalog: Path, test_models: Path, tmp_path: Path, kind: str
) -> None:
    import gradio as gr

    from app import build_app, tab_modules
    from playground.config.catalog import load_catalog
    from playground.loading.model_manager import ModelManager

    entries = [{"id": str(test_models / kind), "label": kind, "default": True}]
    catalog = load_catalog(catalog_variant(test_catalog, tmp_path / "models.yaml", models={"speech_to_text": entries}))
    demo, _ = build_app(catalog, ModelManager(catalog), tab_modules(["speech_to_text"]))
    assert "/transcribe" in demo.get_api_info()["named_endpoints"]
    whisper_options = [
        b
        for b in demo.blocks.values()
        if isinstance(b, (gr.Radio, gr.Dropdown))
        and getattr(b.label, "key", None) in ("speech_to_text.task", "speech_to_text.language")
    ]
    assert len(whisper_options) == 2
    assert all(option.visible is (kind == "whisper") for option in whisper_options)


def test_the_example_fills_the_audio_and_transcribes_in_the_browser(app: RunningApp) -> None:
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (as root, `make test` installs it: apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    duration = sf.info(str(EXAMPLE_CLIP)).duration
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="en-US")
            page.goto(app.url, wait_until="networkidle")
            open_tab(page, "speech_to_text")
            examples = page.locator("#speech-examples .gallery-item")
            expect(examples).to_have_count(1, timeout=30_000)
            expect(examples.first).to_have_text("welcome.ogg")
            examples.first.click()
            # The clip is in the audio input (its download link is the clip), and it is what ran.
            download = page.locator("#speech-audio").get_by_role("link", name="Download")
            expect(download).to_have_attribute("href", re.compile(r"/welcome\.ogg$"), timeout=30_000)
            expect(page.get_by_text(f"Audio: {duration:.1f} s")).to_be_visible(timeout=120_000)
            expect(page.get_by_text("start", exact=True).locator("visible=true").first).to_be_visible()  # the segments
        finally:
            browser.close()


def test_the_task_logic_imports_no_gradio_and_no_page() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tabs.speech_to_text.task; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('gradio', 'tabs')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    assert loaded.strip() == "['tabs', 'tabs.speech_to_text', 'tabs.speech_to_text.task']"


@pytest.fixture(scope="module")
def batching_app(
    test_catalog: Path, test_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    """The speech tab alone, its Whisper sharing batches of up to 4 windows (a CPU's default is 1)."""
    folder = tmp_path_factory.mktemp("speech-batching")
    entry = {
        "id": str(test_models / "whisper"),
        "label": WHISPER,
        "task": "automatic-speech-recognition",
        "default": True,
        "max_batch_size": 4,
    }
    catalog = catalog_variant(test_catalog, folder / "models.yaml", models={"speech_to_text": [entry]})
    running = launch_app(catalog, folder, "--tabs", "speech_to_text")
    yield running
    running.stop()


def speech_peak_batch(client) -> int:  # noqa: ANN001
    """The most windows that shared one forward pass on the Whisper test model (/generation_activity)."""
    table = client.predict(api_name="/generation_activity")
    peak = table["headers"].index("most requests in one forward pass")
    return max((int(row[peak] or 0) for row in table["data"] if row[0] == WHISPER), default=0)


def test_concurrent_transcriptions_share_a_batch_and_equal_alone(batching_app: RunningApp, audio_dir: Path) -> None:
    """Four requests at once share forward passes (playground.engines.speech_batching) and each gets what it gets
    alone; a file that is not audio among them fails alone, with its message."""
    client = batching_app.client()
    names = ["tone.wav", "tone.ogg", "stereo44k.flac", "tone.mp3"]  # one window each
    alone = {name: run(client, audio_dir / name)[:2] for name in names}
    assert speech_peak_batch(client) == 1  # alone, each clip had a forward pass of its own
    jobs = {
        name: client.submit(handle_file(str(audio_dir / name)), WHISPER, api_name="/transcribe")
        for name in [*names, "text.wav"]
    }
    for name in names:
        assert jobs[name].result()[:2] == alone[name], name
    with pytest.raises(AppError, match="could not be read as audio"):
        jobs["text.wav"].result()
    assert speech_peak_batch(client) >= 2


def test_every_whisper_language_is_named_in_each_page_language() -> None:
    import re

    from tabs.speech_to_text import task as speech
    from tabs.speech_to_text.ui import TEXTS, language_choices

    choices = language_choices()
    assert [code for _, code in choices] == ["auto", *speech.whisper_languages()]
    assert [label.key for label, _ in choices[1:]] == [
        f"speech_to_text.lang_{code}" for code in speech.whisper_languages()
    ]
    assert (TEXTS.get("lang_ko"), TEXTS.get("lang_ko", "ko")) == ("Korean (ko)", "한국어 (ko)")
    for code in speech.whisper_languages():
        assert re.search(r"[\uac00-\ud7a3]", TEXTS.get(f"lang_{code}", "ko")), code
