"""FastChat / Arena-Hard layout: `question.jsonl` and `model_answer/<model>.jsonl`, as FastChat
(MT-bench) and Arena-Hard-Auto publish them.

Answer rows are FastChat's (`question_id`, `model_id`, `choices[0].turns`; Arena-Hard v0.1 is the
same) or Arena-Hard v2's (`uid`, `model`, `messages` ending in the answer). A model is named after
its file, as both projects name them. Every answer must belong to a question of the bank: an id
that matches none is an error naming the file, the line and the model.
"""

from __future__ import annotations

from pathlib import Path

from distillscope.errors import UserError
from distillscope.records import iter_records
from distillscope.rse.banks.types import Bank, BankModel, model_key
from distillscope.rse.datasets import load_dataset, row_id

QUESTIONS = "question.jsonl"
ANSWERS = "model_answer"
ANSWER_IDS = ("question_id", "uid", "id")


def is_fastchat(folder: Path) -> bool:
    return (folder / QUESTIONS).is_file() or (folder / ANSWERS).is_dir()


def answer_files(folder: Path) -> list[Path]:
    answers = folder / ANSWERS
    # the suffix in any case: `gpt-4.JSONL` (a copy from Windows) is an answer file, not nothing
    files = sorted(p for p in answers.iterdir() if p.suffix.lower() == ".jsonl") if answers.is_dir() else []
    if not files:
        raise UserError(f"{answers}: no model answers in the bank (expected {ANSWERS}/<model>.jsonl files)")
    return files


def _answer_ids(path: Path, name: str, questions: set[str]) -> tuple[str, int]:
    """The layout of one model's answer file and how many answers it has; an answer to no
    question of the bank is an error."""
    layout, count = "fastchat", 0
    for record in iter_records(path, what="answer file"):
        qid = row_id(record.data, ANSWER_IDS, where=record.where)  # as the replay index reads it: 81.0 is 81
        if "messages" in record.data and "choices" not in record.data:
            layout = "arena-hard-v2"
        if qid is None:
            raise record.error(f"bank model '{name}': answer has no question id", "question_id")
        if str(qid) not in questions:
            raise record.error(
                f"bank model '{name}': answers question '{qid}', which is not in the bank's {QUESTIONS}",
                "question_id",
            )
        count += 1
    if not count:
        raise UserError(f"{path}: bank model '{name}' has no answers")
    return layout, count


def load_fastchat(folder: Path, name: str) -> Bank:
    """The bank in `folder`: its questions as one dataset named `name`, one model per answer file."""
    questions_file = folder / QUESTIONS
    if not questions_file.is_file():
        raise UserError(f"{questions_file}: the bank has no questions file ({QUESTIONS} beside {ANSWERS}/)")
    files = answer_files(folder)
    dataset = load_dataset(name, str(questions_file))
    ids = {p.id for p in dataset.prompts}
    models: list[BankModel] = []
    seen: dict[str, Path] = {}
    layouts = set()
    for path in files:
        model = path.stem
        if model_key(model) in seen:
            raise UserError(
                f"{path}: duplicate model name '{model}' in the bank (also {seen[model_key(model)]})"
            )
        seen[model_key(model)] = path
        layout, _ = _answer_ids(path, model, ids)
        layouts.add(layout)
        models.append(BankModel(model, path))
    return Bank(str(folder), "arena-hard-v2" if "arena-hard-v2" in layouts else "fastchat", dataset, models)
