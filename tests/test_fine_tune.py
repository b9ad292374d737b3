"""The fine-tune tab: the data checks and metrics as functions, then real training through the launched
app: a tiny random-weight DistilBERT learns a toy task (the label says whether the sentence contains
"cat") to at least 0.9 validation accuracy, and `/classify_text` then answers with the new model; Stop
keeps a usable model; a second training waits its turn; the shown scripts run; bad data is refused."""

from __future__ import annotations

import json
import random
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import RunningApp, launch_app
from fake_hub import FakeHub
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from snippets import run_snippet

from playground.config.catalog import FineTuneSettings, load_catalog
from playground.core.texts import UserError
from tabs.fine_tune import task, token_task
from tabs.fine_tune.training_task import JobQueue, TrainingOptions, check_encoder, check_options

BASE = "DistilBERT (test)"
WRITE_TOKEN = "hf_test_writer"
HUB_DATASET = "learner/toy-cats"
# The same task with the label stored as class numbers and their names (a ClassLabel), as Hub datasets
# converted to Parquet keep them; and a tagging task stored as CoNLL-2003 is (tokens, ner_tags numbers).
HUB_CLASSES = "learner/toy-cats-classes"
HUB_TAGS = "learner/toy-pets-conll"
# A test split as the Hub keeps one: every label -1, ClassLabel's "no label".
HUB_UNLABELLED = "learner/toy-cats-test"
CLASS_NAMES = ["no_cat", "cat"]
TAG_NAMES = ["O", "B-PET", "I-PET", "B-NUM", "I-NUM"]
# Words the test tokenizer knows whole, so the model sees words, not characters.
WORDS = "the a man woman dog bird house car city book music tree red green happy sad fast slow one two ten".split()
# What a toy training asks for: a learning rate that moves random weights in a few dozen steps.
TOY_OPTIONS = {"epochs": 6, "learning_rate": 3e-3, "batch_size": 16, "seed": 0}


def toy_rows(count: int, seed: int = 0) -> list[dict[str, str]]:
    """Sentences of six random words; every other one has "cat" put in somewhere, and says so in its label."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        words = rng.sample(WORDS, 6)
        if index % 2 == 0:
            words.insert(rng.randrange(7), "cat")
        rows.append({"sentence": " ".join(words), "has_cat": "cat" if index % 2 == 0 else "no_cat"})
    return rows


# Filler words of the toy tagging task: the words the test tokenizer knows whole, less the tagged ones.
FILLERS = [word for word in WORDS if word not in ("dog", "one", "two", "ten")]


def toy_tagged_rows(count: int, seed: int = 0) -> list[dict[str, list[str]]]:
    """Sentences of filler words with a pet ("cat" or "dog", B-PET) and a number ("one", "two", "ten",
    B-NUM) put in somewhere; every other sentence has "big cat" (B-PET I-PET) instead of its pet."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        tokens = rng.sample(FILLERS, 4)
        tags = ["O"] * 4
        pet = (["big", "cat"], ["B-PET", "I-PET"]) if index % 2 else ([rng.choice(["cat", "dog"])], ["B-PET"])
        for words, labels in (pet, ([rng.choice(["one", "two", "ten"])], ["B-NUM"])):
            at = rng.randrange(len(tokens) + 1)
            tokens[at:at] = words
            tags[at:at] = labels
        rows.append({"tokens": tokens, "tags": tags})
    return rows


def parquet_file(columns: dict[str, list[Any]], features: Any) -> bytes:
    """Rows as a Parquet file with their `datasets` features in its metadata, as the Hub serves datasets."""
    import io

    from datasets import Dataset

    out = io.BytesIO()
    Dataset.from_dict(columns, features=features).to_parquet(out)
    return out.getvalue()


def hub_dataset_files() -> dict[str, dict[str, bytes]]:
    """The stand-in Hub's datasets: the toy task as CSV, as Parquet with a ClassLabel, and the tagging task
    in CoNLL-2003's shape (an id, the words, tags as class numbers, a -DOCSTART- row first)."""
    from datasets import ClassLabel, Features, List, Value

    toy_csv = "sentence,has_cat\n" + "".join(f"{row['sentence']},{row['has_cat']}\n" for row in toy_rows(40, seed=3))
    classes = toy_rows(40, seed=4)
    tagged = [{"tokens": ["-DOCSTART-"], "tags": ["O"]}, *toy_tagged_rows(120, seed=2)]
    return {
        HUB_DATASET: {"README.md": b"# Toy cats\n", "data/train.csv": toy_csv.encode()},
        HUB_CLASSES: {
            "README.md": b"# Toy cats, labels as classes\n",
            "data/train-00000-of-00001.parquet": parquet_file(
                {
                    "text": [row["sentence"] for row in classes],
                    "label": [CLASS_NAMES.index(row["has_cat"]) for row in classes],
                },
                Features({"text": Value("string"), "label": ClassLabel(names=CLASS_NAMES)}),
            ),
        },
        HUB_UNLABELLED: {
            "README.md": b"# Toy cats, the test split\n",
            "data/train-00000-of-00001.parquet": parquet_file(
                {"text": [row["sentence"] for row in classes], "label": [-1] * len(classes)},
                Features({"text": Value("string"), "label": ClassLabel(names=CLASS_NAMES)}),
            ),
        },
        HUB_TAGS: {
            "README.md": b"# Toy pets, CoNLL-2003 style\n",
            "data/train-00000-of-00001.parquet": parquet_file(
                {
                    "id": [str(number) for number in range(len(tagged))],
                    "tokens": [row["tokens"] for row in tagged],
                    "ner_tags": [[TAG_NAMES.index(tag) for tag in row["tags"]] for row in tagged],
                },
                Features(
                    {
                        "id": Value("string"),
                        "tokens": List(Value("string")),
                        "ner_tags": List(ClassLabel(names=TAG_NAMES)),
                    }
                ),
            ),
        },
    }


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


# ---- the data checks, without the app ----


def write_csv(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def two_labels(count: int = 6) -> list[str]:
    return [f"text {index},{'a' if index % 2 else 'b'}" for index in range(count)]


BAD_DATA = {
    "one class only": (["text,label", *[f"text {index},same" for index in range(6)]], "same label"),
    "a label with one example": (["text,label", *two_labels(), "lonely text,c"], "single row"),
    "missing labels": (["text,label", *two_labels(), "no label here,"], "no label"),
    "numeric and named labels": (["text,label", *two_labels(), "x,1", "y,1"], "mix numbers"),
    "scores, not classes": (["text,label", *[f"t{index},0.{index}5" for index in range(6)]], "scores, not classes"),
    "one row": (["text,label", "only one,a"], "Only 1 row"),
    "an empty text": (["text,label", *two_labels(), ",a"], "empty 'text'"),
    "thousands of labels": (["text,label", *[f"t{index},label {index}" for index in range(3000)]], "3000 different"),
    "no label column": (["text,note", *two_labels()], "Pick the label column"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_gets_a_clear_message(tmp_path: Path, case: str) -> None:
    lines, message = BAD_DATA[case]
    path = write_csv(tmp_path / "data.csv", lines[0], lines[1:])
    with pytest.raises(UserError, match=re.escape(message)):
        task.read_labelled(path, "", "", FineTuneSettings())


def test_other_bad_files(tmp_path: Path) -> None:
    limits = FineTuneSettings()
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncafé,a\n".encode("latin-1"))
    with pytest.raises(UserError, match="UTF-8"):
        task.read_labelled(latin, "", "", limits)
    good = write_csv(tmp_path / "good.csv", "text,label", two_labels())
    with pytest.raises(UserError, match="no column 'review'"):
        task.read_labelled(good, "review", "", limits)
    with pytest.raises(UserError, match="no column 'kind'"):
        task.read_labelled(good, "text", "kind", limits)
    with pytest.raises(UserError, match="both 'text'"):
        task.read_labelled(good, "text", "text", limits)
    plain = tmp_path / "texts.txt"
    plain.write_text("one\ntwo\n")
    with pytest.raises(UserError, match="no labels"):
        task.read_labelled(plain, "", "", limits)
    small = task.read_labelled(good, "", "", limits)
    with pytest.raises(UserError, match="fewer than one per label"):
        task.check_split(small, 0.1)


def test_whole_number_labels_and_the_example_sets() -> None:
    numbers = task.LabelledData("n", ["a", "b", "c", "d"], ["0", "1", "0", "1"])
    task.check_labels(numbers, FineTuneSettings())
    assert numbers.label_names == ["0", "1"]
    for name in task.EXAMPLE_SETS:
        data = task.read_example(name)
        assert len(data.texts) >= 100 and len(data.label_names) == 4
    assert set(task.read_example("topics_ko").label_names) == {"스포츠", "음식", "날씨", "기술"}


def test_tagged_files_jsonl_and_conll(tmp_path: Path) -> None:
    limits = FineTuneSettings()
    rows = toy_tagged_rows(6)
    from_jsonl = token_task.read_tagged(write_jsonl(tmp_path / "tags.jsonl", rows), limits)
    conll = "-DOCSTART- O\n\n" + "\n\n".join(
        "\n".join(f"{word} X {tag}" for word, tag in zip(row["tokens"], row["tags"])) for row in rows
    )
    (tmp_path / "tags.conll").write_text(conll + "\n", encoding="utf-8")
    from_conll = token_task.read_tagged(tmp_path / "tags.conll", limits)
    assert from_jsonl.tokens == from_conll.tokens == [row["tokens"] for row in rows]
    assert from_jsonl.tags == from_conll.tags
    assert from_jsonl.tag_names == ["O", "B-NUM", "B-PET", "I-PET"] and from_jsonl.entity_types == ["NUM", "PET"]
    for name in token_task.TAGGED_EXAMPLE_SETS:
        example = token_task.read_tagged_example(name)
        assert len(example.tokens) >= 100 and example.entity_types == ["LOC", "ORG", "PER"]


def test_tagged_tables_of_word_and_tag_lists() -> None:
    from playground.media.datasets import Table

    rows = [{"tokens": json.dumps(row["tokens"]), "ner_tags": json.dumps(row["tags"])} for row in toy_tagged_rows(6)]
    docstart = {"tokens": '["-DOCSTART-"]', "ner_tags": '["O"]'}
    data = token_task.tagged_table(Table("toy", ["tokens", "ner_tags"], [docstart, *rows]), "", "", FineTuneSettings())
    assert data.tokens == [row["tokens"] for row in toy_tagged_rows(6)] and data.entity_types == ["NUM", "PET"]
    numbers = [{"tokens": '["Kim", "runs"]', "ner_tags": "[1, 0]"}] * 4
    with pytest.raises(UserError, match="numbers need their names"):
        token_task.tagged_table(Table("n", ["tokens", "ner_tags"], numbers), "", "", FineTuneSettings())
    with pytest.raises(UserError, match="Pick the words column"):
        token_task.tagged_table(Table("n", ["text", "ner_tags"], numbers), "", "", FineTuneSettings())


def tagged_line(tokens: list[str], tags: list[Any]) -> str:
    return json.dumps({"tokens": tokens, "tags": tags}, ensure_ascii=False)


GOOD_TAGGED = [tagged_line(["Kim", "runs"], ["B-PER", "O"])] * 4
BAD_TAGGED = {
    "one sentence": ([GOOD_TAGGED[0]], "Only 1 sentence"),
    "a tag missing": ([*GOOD_TAGGED, tagged_line(["Kim", "runs"], ["B-PER"])], "not one tag per word"),
    "not BIO": ([*GOOD_TAGGED, tagged_line(["Kim"], ["PERSON"])], "BIO names"),
    "numbers for tags": ([*GOOD_TAGGED, tagged_line(["Kim"], [3])], "numbers need their names"),
    "no entity": ([tagged_line(["a", "b"], ["O", "O"])] * 4, "Every tag is O"),
    "no tags key": ([*GOOD_TAGGED, json.dumps({"tokens": ["a"]})], "line 5"),
    "not JSON": ([*GOOD_TAGGED, "{oops"], "not a JSON object"),
}


@pytest.mark.parametrize("case", list(BAD_TAGGED))
def test_bad_tagged_data_gets_a_clear_message(tmp_path: Path, case: str) -> None:
    lines, message = BAD_TAGGED[case]
    path = tmp_path / "tags.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=re.escape(message)):
        token_task.read_tagged(path, FineTuneSettings())


def test_other_bad_tagged_files(tmp_path: Path) -> None:
    limits = FineTuneSettings()
    latin = tmp_path / "tags.conll"
    latin.write_bytes("café B-LOC\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8"):
        token_task.read_tagged(latin, limits)
    no_tag = tmp_path / "words.conll"
    no_tag.write_text("Kim B-PER\nruns\n\n" * 4)
    with pytest.raises(UserError, match="a word without a tag"):
        token_task.read_tagged(no_tag, limits)
    with pytest.raises(UserError, match="not a JSONL or CoNLL"):
        token_task.read_tagged(write_csv(tmp_path / "data.csv", "text,label", two_labels()), limits)


def test_entity_spans_labels_and_scores() -> None:
    assert token_task.entity_spans(["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-ORG"]) == {
        ("PER", 0, 1),
        ("LOC", 3, 3),
        ("LOC", 4, 4),
        ("ORG", 5, 5),  # an I- after another type starts an entity, as conlleval reads it
    }
    # word ids of "[CLS] Kim ##ber runs [SEP]": only the first piece of each word is labelled
    assert token_task.aligned_labels([None, 0, 0, 1, None], [2, 0]) == [-100, 2, -100, 0, -100]
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-LOC"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "B-LOC"]]
    names = ["O", "B-LOC", "B-PER", "I-PER"]
    result = token_task.tagged_scores(predicted, true, ["LOC", "PER"], names)
    # LOC: 2 of 2 found, nothing extra; PER: the one person is cut short (wrong end), one invented
    assert result.entity.precision == [1.0, 0.0] and result.entity.recall == [1.0, 0.0]
    assert result.entity.support == [2, 1] and result.entity.f1_macro == 0.5
    assert result.words.accuracy == pytest.approx(4 / 6)
    wrong = token_task.wrong_sentences([["Kim", "Lee", "in", "Seoul"], ["in", "Busan"]], predicted, true)
    assert wrong == [
        ["Kim Lee in Seoul", "Kim Lee (PER); Seoul (LOC)", "Kim (PER); Seoul (LOC)", 1],
        ["in Busan", "Busan (LOC)", "in (PER); Busan (LOC)", 1],
    ]


def test_the_split_is_stratified_and_seeded() -> None:
    data = task.LabelledData("toy", [row["sentence"] for row in toy_rows(40)], [row["has_cat"] for row in toy_rows(40)])
    first, again = task.split(data, 0.25, seed=3), task.split(data, 0.25, seed=3)
    assert first["test"]["text"] == again["test"]["text"]
    assert len(first["test"]) == 10 and sorted(first["test"]["label"]) == [0] * 5 + [1] * 5
    assert task.split(data, 0.25, seed=4)["test"]["text"] != first["test"]["text"]


def test_scores_match_scikit_learn() -> None:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score

    rng = np.random.default_rng(0)
    true = rng.integers(0, 4, 200)
    predicted = np.where(rng.random(200) < 0.6, true, rng.integers(0, 4, 200))
    predicted[predicted == 3] = 2  # label 3 is never predicted: its precision is 0, not an error
    result = task.scores(predicted, true, 4)
    assert result.accuracy == pytest.approx(accuracy_score(true, predicted))
    assert result.f1_macro == pytest.approx(f1_score(true, predicted, average="macro", zero_division=0))
    assert result.f1 == pytest.approx(list(f1_score(true, predicted, average=None, zero_division=0)))
    assert result.precision == pytest.approx(list(precision_score(true, predicted, average=None, zero_division=0)))
    assert result.confusion == confusion_matrix(true, predicted).tolist()


def test_the_report_names_every_label_and_the_mistakes() -> None:
    names = ["cat", "dog", "별"]
    result = task.scores([0, 1, 1, 2, 0, 2], [0, 1, 0, 2, 2, 2], 3)
    report = task.report_markdown(result, names, "en")
    assert "**Validation accuracy 0.667**" in report
    for name, f1 in zip(names, result.f1):
        assert f"| {name} | " in report and f"| {f1:.3f} |" in report
    probabilities = [[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1], [0, 0, 1], [0.8, 0.1, 0.1], [0, 0.1, 0.9]]
    texts = ["a", "b", "c", "d", "e", "f"]
    wrong = task.misclassified_rows(texts, [0, 1, 0, 2, 2, 2], probabilities, names)
    # the most confident mistake first
    assert wrong == [["e", "별", "cat", 0.8], ["c", "cat", "dog", 0.6]]
    picture = task.confusion_picture(result.confusion, names, "title", ("true", "predicted"))
    assert picture.mode == "RGB" and min(picture.size) > 200
    # the matrix is drawn: more than a blank page's colours
    assert len(picture.getcolors(maxcolors=100_000) or []) > 20


def test_options_are_checked() -> None:
    limits = FineTuneSettings(max_epochs=5)
    assert check_options(limits) == TrainingOptions()
    for name, value in {"epochs": 6, "learning_rate": 0, "batch_size": 2.5, "warmup": 0.9, "seed": "x"}.items():
        with pytest.raises(UserError, match=name):
            check_options(limits, **{name: value})


def test_only_encoders_are_fine_tuned() -> None:
    from transformers import BartConfig, BertConfig, GPT2Config, ViTConfig

    check_encoder(BertConfig(), "BERT")
    for config in (GPT2Config(), BartConfig(), ViTConfig()):
        with pytest.raises(UserError, match="not a text encoder"):
            check_encoder(config, "model")


def test_the_queue_runs_one_job_at_a_time() -> None:
    queue = JobQueue(slots=1, max_waiting=1)
    first, second = queue.join(), queue.join()
    assert queue.wait(first, 0) == 0
    assert queue.wait(second, 0.01) == 1
    with pytest.raises(UserError, match="already waiting"):
        queue.join()
    queue.leave(first, started=True)
    assert queue.wait(second, 0) == 0


# ---- real training through the launched app ----


@pytest.fixture(scope="module")
def fine_tune_app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("fine-tune-app")
    data = yaml.safe_load(test_catalog.read_text())
    for tab in data["tabs"].values():
        for model in tab["models"]:
            if model["id"].startswith("./"):
                model["id"] = str(test_catalog.parent / model["id"][2:])
    data["fine_tune"] = {"output_dir": str(root / "fine-tuned"), "keep_models": 2, "max_waiting": 2}
    catalog = root / "models.yaml"
    catalog.write_text(yaml.safe_dump(data, allow_unicode=True))
    hub = FakeHub(hub_dataset_files(), write_tokens=(WRITE_TOKEN,))
    # Online against the stand-in Hub (the models are local folders); one thread each: the test
    # machine's cores are shared, and tiny models train fastest on one.
    env = {"OMP_NUM_THREADS": "1", "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}
    tabs = "fine_tune,text_classification,named_entities"
    running = launch_app(catalog, root, "--tabs", tabs, env=env, timeout=240)
    running.toy = write_jsonl(root / "toy.jsonl", toy_rows(160))  # type: ignore[attr-defined]
    running.toy_tagged = write_jsonl(root / "toy-tags.jsonl", toy_tagged_rows(120))  # type: ignore[attr-defined]
    running.hub = hub  # type: ignore[attr-defined]
    yield running
    running.stop()
    hub.close()


@pytest.fixture(scope="module")
def trained(fine_tune_app: RunningApp) -> dict[str, Any]:
    """One toy training's streamed updates and its final outputs."""
    client = fine_tune_app.client()
    job = client.submit(
        handle_file(str(fine_tune_app.toy)), "sentence", "has_cat", model=BASE, api_name="/fine_tune", **TOY_OPTIONS
    )
    updates = [update[0] for update in job]
    return {"client": client, "updates": updates, "result": job.result()}


def accuracy_in(report: str) -> float:
    return float(re.search(r"accuracy ([0-9.]+)", report).group(1))


def test_a_tiny_model_learns_the_toy_task(trained: dict[str, Any]) -> None:
    status, losses, validation, report, confusion, wrong, model_id, download, trainer_code, loop_code = trained[
        "result"
    ]
    assert accuracy_in(report) >= 0.9, report
    assert "| cat |" in report and "| no_cat |" in report
    # Progress streams before the result (the progress bar and time left: the stop test, whose run is longer).
    assert len(trained["updates"]) > 1 and "Done" in trained["updates"][-1]
    train_loss = [value for _, value, curve in losses["data"] if curve == "training loss"]
    assert train_loss[-1] < train_loss[0] / 2, "the training loss falls"
    assert {curve for _, _, curve in validation["data"]} == {"accuracy", "macro F1"}
    assert "Done" in status and model_id in status and Path(model_id).is_dir()
    assert Path(confusion).is_file()
    assert wrong["headers"] == ["text", "label", "predicted", "score"]
    assert all(row[1] != row[2] for row in wrong["data"])
    with zipfile.ZipFile(download) as archive:
        names = set(archive.namelist())
    assert {"config.json", "model.safetensors", "tokenizer.json", "data.jsonl", "train.py", "train_loop.py"} <= names


def test_classify_text_answers_with_the_new_model(trained: dict[str, Any]) -> None:
    client, model_id = trained["client"], trained["result"][6]
    for sentence, expected in (("the dog and a cat ran", "cat"), ("the dog and a bird ran", "no_cat")):
        label, _, code = client.predict(sentence, model=model_id, api_name="/classify_text")
        assert {item["label"] for item in label["confidences"]} == {"cat", "no_cat"}
        assert label["label"] == expected, (sentence, label)
    assert model_id in code
    loaded = {model["id"]: model for model in client.predict(api_name="/loaded_models")}
    assert loaded[model_id]["task"] == "text-classification"
    label = loaded[model_id]["label"]
    assert label == "DistilBERT (test) fine-tuned #1"
    client.predict("the cat", model=label, api_name="/classify_text")  # by its label too
    client.predict(label, api_name="/unload_model")
    assert model_id not in {model["id"] for model in client.predict(api_name="/loaded_models")}


def test_the_shown_scripts_run(trained: dict[str, Any]) -> None:
    trainer_code, loop_code, model_id = trained["result"][8], trained["result"][9], trained["result"][6]
    data = Path(model_id) / "data.jsonl"
    # One thread, as the app runs here: the machine's cores are shared (the scripts themselves are unchanged).
    one_thread = "import torch\ntorch.set_num_threads(1)\n"
    printed = run_snippet(one_thread + trainer_code, {"data.jsonl": data})
    assert float(re.search(r"'eval_accuracy': ([0-9.]+)", printed).group(1)) >= 0.9, printed
    printed = run_snippet(one_thread + loop_code, {"data.jsonl": data})
    assert printed.count("validation accuracy") == TOY_OPTIONS["epochs"]


def test_push_to_hub_sends_the_model_and_its_card(trained: dict[str, Any], fine_tune_app: RunningApp) -> None:
    client, model_id = trained["client"], trained["result"][6]
    message = client.predict(model_id, "learner/toy-cat", WRITE_TOKEN, api_name="/push_to_hub")
    assert "learner/toy-cat" in message and "(private)" in message
    repo = fine_tune_app.hub.models["learner/toy-cat"]
    assert repo["private"] is True
    files = repo["files"]
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(files)
    assert "data.jsonl" not in files and not any(name.endswith(".bin") for name in files)
    assert set(json.loads(files["config.json"])["id2label"].values()) == {"cat", "no_cat"}
    card = files["README.md"].decode()
    assert "pipeline_tag: text-classification" in card and "`cat`, `no_cat`" in card
    assert "model='learner/toy-cat'" in card and "| epochs | 6 |" in card
    assert accuracy_in(card.replace("Accuracy", "accuracy")) >= 0.9
    for args, error in (
        ((model_id, "learner/other", "not-a-token"), "refused the token"),
        ((model_id, "someone-else/toy", WRITE_TOKEN), "may not write to someone-else/toy"),
        ((model_id, "no slash", WRITE_TOKEN), "must be owner/name"),
        (("/etc", "learner/x", WRITE_TOKEN), "not a model fine-tuned in this run"),
        ((model_id, "learner/x", ""), "Give a Hugging Face token"),
    ):
        with pytest.raises(AppError, match=error):
            client.predict(*args, api_name="/push_to_hub")
    assert WRITE_TOKEN not in fine_tune_app.log()


def latest_status(job: Any) -> str:
    outputs = job.outputs()
    return outputs[-1][0] if outputs else ""


def wait_for(job: Any, pattern: str, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = latest_status(job)
        if re.search(pattern, status):
            return status
        assert not job.done(), f"the job ended before {pattern!r}: {latest_status(job)}"
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in {seconds} s; last status: {latest_status(job)}")


def test_lora_trains_adapters_merged_into_a_plain_model(fine_tune_app: RunningApp) -> None:
    client = fine_tune_app.client()
    # LoRA moves few weights: it needs a higher learning rate than full fine-tuning to learn in 48 steps.
    options = {**TOY_OPTIONS, "learning_rate": 3e-2, "lora": True, "lora_rank": 4, "seed": 1}
    status, *_, report, _, _, model_id, _, trainer_code, loop_code = client.predict(
        handle_file(str(fine_tune_app.toy)), "sentence", "has_cat", model=BASE, api_name="/fine_tune", **options
    )
    assert accuracy_in(report) >= 0.9, report
    trained, parameters = (int(n.replace(",", "")) for n in re.search(r"trained ([\d,]+) of ([\d,]+)", status).groups())
    assert "LoRA, rank 4" in status and trained < parameters / 4
    # The saved model is plain transformers (no adapter files), so every tab loads it.
    assert not (Path(model_id) / "adapter_config.json").exists()
    for row in toy_rows(6, seed=9):
        label, _, _ = client.predict(row["sentence"], model=model_id, api_name="/classify_text")
        assert label["label"] == row["has_cat"], row
    assert "LoraConfig(" in trainer_code and "'q_lin', 'v_lin'" in trainer_code and "merge_and_unload()" in loop_code
    one_thread = "import torch\ntorch.set_num_threads(1)\n"
    printed = run_snippet(one_thread + trainer_code, {"data.jsonl": Path(model_id) / "data.jsonl"})
    assert "trainable params" in printed
    assert float(re.search(r"'eval_accuracy': ([0-9.]+)", printed).group(1)) >= 0.9, printed


def test_a_tagger_learns_and_joins_the_named_entities_tab(fine_tune_app: RunningApp) -> None:
    client = fine_tune_app.client()
    status, _, _, report, confusion, wrong, model_id, download, trainer_code, loop_code = client.predict(
        handle_file(str(fine_tune_app.toy_tagged)),
        model=BASE,
        task="token-classification",
        api_name="/fine_tune",
        **TOY_OPTIONS,
    )
    f1 = float(re.search(r"entity macro F1 ([0-9.]+)", report).group(1))
    assert f1 >= 0.9, report
    assert "| NUM |" in report and "| PET |" in report and "Named entities tab" in status
    assert wrong["headers"] == ["sentence", "entities", "predicted", "wrong words"] and Path(confusion).is_file()
    # Words the toy data has (a word it never saw is cut into pieces the tagger never learnt).
    _, table, code = client.predict("the man a red cat ten", model=model_id, api_name="/extract_entities")
    found = {(word, kind) for word, kind, *_ in table["data"]}
    assert ("cat", "PET") in found and ("ten", "NUM") in found and {kind for _, kind in found} <= {"PET", "NUM"}
    assert model_id in code
    with zipfile.ZipFile(download) as archive:
        assert {"config.json", "data.jsonl", "train.py", "train_loop.py"} <= set(archive.namelist())
    one_thread = "import torch\ntorch.set_num_threads(1)\n"
    data = {"data.jsonl": Path(model_id) / "data.jsonl"}
    printed = run_snippet(one_thread + trainer_code, data)
    assert float(re.search(r"'eval_accuracy': ([0-9.]+)", printed).group(1)) >= 0.9, printed
    printed = run_snippet(one_thread + loop_code, data)
    assert printed.count("validation accuracy") == TOY_OPTIONS["epochs"]
    with pytest.raises(AppError, match="task: 'summarization' is not one of"):
        client.predict(None, task="summarization", api_name="/fine_tune")


def test_a_hub_dataset_trains_a_classifier(fine_tune_app: RunningApp) -> None:
    client = fine_tune_app.client()
    status, *_, report, _, _, model_id, _, _, _ = client.predict(
        None, "sentence", "has_cat", model=BASE, epochs=1, hub_dataset=HUB_DATASET, api_name="/fine_tune"
    )
    assert "on 32 training rows, evaluated on 8 validation rows" in status, status
    assert "| cat |" in report and "| no_cat |" in report
    assert json.loads((Path(model_id) / "data.jsonl").read_text().splitlines()[0]).keys() == {"text", "label"}
    toy = handle_file(str(fine_tune_app.toy))
    for args, options, error in (
        ((toy,), {"hub_dataset": HUB_DATASET}, "not both"),
        ((None,), {"hub_dataset": HUB_DATASET, "task": "token-classification"}, "Pick the words column"),
        ((None,), {"hub_dataset": "../etc"}, "owner/name"),
    ):
        with pytest.raises(AppError, match=error):
            client.predict(*args, model=BASE, api_name="/fine_tune", **options)


def test_a_hub_dataset_with_class_numbers_trains_on_their_names(fine_tune_app: RunningApp) -> None:
    client = fine_tune_app.client()
    status, *_, report, _, _, model_id, _, _, _ = client.predict(
        None, "", "", model=BASE, hub_dataset=HUB_CLASSES, api_name="/fine_tune", **TOY_OPTIONS
    )
    assert "| cat |" in report and "| no_cat |" in report, report
    assert "| 0 |" not in report and "| 1 |" not in report
    assert {json.loads(line)["label"] for line in (Path(model_id) / "data.jsonl").read_text().splitlines()} == {
        "cat",
        "no_cat",
    }
    label, _, _ = client.predict("the dog and a cat ran", model=model_id, api_name="/classify_text")
    assert {item["label"] for item in label["confidences"]} == {"cat", "no_cat"}
    with pytest.raises(AppError, match=r"40 row\(s\) have no label in 'label'"):
        client.predict(None, model=BASE, hub_dataset=HUB_UNLABELLED, api_name="/fine_tune")


def test_a_tagger_learns_from_a_conll_style_hub_dataset(fine_tune_app: RunningApp) -> None:
    client = fine_tune_app.client()
    status, _, _, report, _, _, model_id, _, _, _ = client.predict(
        None,
        model=BASE,
        task="token-classification",
        hub_dataset=HUB_TAGS,
        api_name="/fine_tune",
        **TOY_OPTIONS,
    )
    f1 = float(re.search(r"entity macro F1 ([0-9.]+)", report).group(1))
    assert f1 >= 0.9, report
    assert "| NUM |" in report and "| PET |" in report
    # 120 sentences (the -DOCSTART- row skipped): 96 to train on, 24 to validate.
    assert "on 96 training rows, evaluated on 24 validation rows" in status, status
    rows = [json.loads(line) for line in (Path(model_id) / "data.jsonl").read_text().splitlines()]
    assert all(tag in TAG_NAMES for row in rows for tag in row["tags"]) and ["-DOCSTART-"] not in [
        row["tokens"] for row in rows
    ]
    _, table, _ = client.predict("the man a red cat ten", model=model_id, api_name="/extract_entities")
    found = {(word, kind) for word, kind, *_ in table["data"]}
    assert ("cat", "PET") in found and ("ten", "NUM") in found
    for options, error in (
        ({"text_column": "id"}, "'id' and 'ner_tags' must each hold a list"),
        ({"label_column": "pos_tags"}, "no column 'pos_tags'"),
    ):
        with pytest.raises(AppError, match=re.escape(error)):
            client.predict(
                None, model=BASE, task="token-classification", hub_dataset=HUB_TAGS, api_name="/fine_tune", **options
            )


def test_lora_settings_per_encoder() -> None:
    from tabs.fine_tune.training_task import lora_settings

    assert lora_settings("distilbert", ["pre_classifier", "classifier"], 8)["target_modules"] == ["q_lin", "v_lin"]
    bert = lora_settings("bert", ["classifier"], 16)
    assert bert["target_modules"] == ["query", "value"] and bert["lora_alpha"] == 32
    assert bert["task_type"] == "SEQ_CLS" and bert["modules_to_save"] == ["classifier"]
    assert lora_settings("some-new-encoder", ["score"], 8)["target_modules"] == "all-linear"
    assert lora_settings("bert", ["classifier"], 8, tagger=True)["task_type"] == "TOKEN_CLS"


def test_stop_keeps_a_usable_model_and_a_second_training_waits(fine_tune_app: RunningApp) -> None:
    first, second = fine_tune_app.client(), fine_tune_app.client()
    toy = handle_file(str(fine_tune_app.toy))
    # One row a step: 2560 steps, a checkpoint every 320; long enough to stop midway on an idle machine too.
    options = {**TOY_OPTIONS, "epochs": 20, "batch_size": 1}
    running = first.submit(toy, "sentence", "has_cat", model=BASE, api_name="/fine_tune", **options)
    assert re.search(
        r"[█░]{20}` \d+ % · step \d+ of 2560 · epoch [0-9.]+ of 20 · about .+ left", wait_for(running, "left")
    )
    waiting = second.submit(toy, "sentence", "has_cat", model=BASE, api_name="/fine_tune", **options)
    assert "1 training(s) ahead" in wait_for(waiting, "Waiting")
    assert second.predict(api_name="/stop_fine_tune") == "Stopping at the next step."
    assert "Stopped before it started" in waiting.result()[0]
    # Stopped after the first checkpoint (step 320), before the end: the best checkpoint so far is kept.
    wait_for(running, r"step (3[3-9]\d|[4-9]\d\d|[12]\d\d\d) of 2560")
    first.predict(api_name="/stop_fine_tune")
    status, *_, report, _, _, model_id, _, _, _ = running.result()
    assert "Stopped" in status and "of 2560 steps" in status and "Kept: the checkpoint of step" in status
    assert "Validation accuracy" in report
    label, _, _ = first.predict("the cat", model=model_id, api_name="/classify_text")
    assert {item["label"] for item in label["confidences"]} == {"cat", "no_cat"}
    assert first.predict(api_name="/stop_fine_tune") == "No training of yours is running or waiting."


def test_bad_requests_get_messages(fine_tune_app: RunningApp, tmp_path: Path) -> None:
    client = fine_tune_app.client()
    one_class = write_jsonl(tmp_path / "one.jsonl", [{"text": f"t {index}", "label": "same"} for index in range(6)])
    with pytest.raises(AppError, match="Every row has the same label"):
        client.predict(handle_file(str(one_class)), api_name="/fine_tune")
    with pytest.raises(AppError, match="not a text encoder"):
        client.predict(None, model="GPT-2 (test, not an encoder)", epochs=1, api_name="/fine_tune")
    with pytest.raises(AppError, match="epochs: 99 is above the maximum of 20"):
        client.predict(None, epochs=99, api_name="/fine_tune")
    assert "Traceback" not in fine_tune_app.log()


def test_the_switch_turns_the_tab_off(test_catalog: Path, tmp_path: Path) -> None:
    from app import selected_tabs

    data = yaml.safe_load(test_catalog.read_text())
    assert "fine_tune" in selected_tabs(load_catalog(test_catalog), None)
    data["fine_tune"] = {"enabled": False}
    off = tmp_path / "models.yaml"
    off.write_text(yaml.safe_dump(data))
    catalog = load_catalog(off)
    assert "fine_tune" not in selected_tabs(catalog, None)
    assert not catalog.receives_models("text_classification") and not catalog.receives_models("named_entities")


def test_models_join_a_tab_for_the_run(test_catalog: Path) -> None:
    from playground.config.catalog import CatalogError, ModelEntry, parse_catalog

    catalog = load_catalog(test_catalog)
    entry = ModelEntry(id="/tmp/fine-tuned-1", label="Fine-tuned #1", task="text-classification")
    catalog.add_model("text_classification", entry)
    assert catalog.find("text_classification", "fine-tuned #1") is entry
    with pytest.raises(ValueError, match="already lists"):
        catalog.add_model("text_classification", entry)
    with pytest.raises(ValueError, match="does not serve"):
        catalog.add_model("text_classification", ModelEntry(id="/tmp/x", task="fill-mask"))
    catalog.remove_model("text_classification", entry.id)
    assert catalog.find("text_classification", entry.id) is None
    with pytest.raises(CatalogError, match="max_jobs"):
        parse_catalog({**yaml.safe_load(test_catalog.read_text()), "fine_tune": {"max_jobs": 0}})
