"""A step's self-study question: the trainee picks an answer and is told right or wrong, why,
and the score so far.

Answers are the trainee's, not the project's: they are kept in the user's settings (QSettings:
``~/.config/TwinViewer`` on Linux, the registry on Windows) under ``tours/answers``, one JSON
object keyed by project file, tour and step; never in the project file, which a trainer shares.
"""

from __future__ import annotations

import html
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.project_tours import Question, Tour

log = logging.getLogger(__name__)

KEY = "tours/answers"
RIGHT = "#3fb267"
WRONG = "#e4483e"


@dataclass(frozen=True)
class Score:
    right: int
    answered: int
    questions: int

    def text(self) -> str:
        return f"Score: {self.right} of {self.questions} right ({self.answered} answered)"


class QuizBook:
    """The trainee's answers, kept in the user's settings."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    @staticmethod
    def key(project: Path, tour: str, step: int) -> str:
        """One question: the project file, the tour's name and the step (counting from 1)."""
        return f"{Path(project).resolve()}|{tour}|{step + 1}"

    def _all(self) -> dict[str, dict[str, object]]:
        raw = self.settings.value(KEY, "")
        try:
            data = json.loads(str(raw)) if raw else {}
        except ValueError:
            log.warning("the saved tour answers cannot be read; starting afresh")
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, key: str, answer: int, correct: bool) -> None:
        data = self._all()
        data[key] = {"answer": answer, "correct": correct, "when": time.time()}
        self.settings.setValue(KEY, json.dumps(data))
        self.settings.sync()

    def answer(self, key: str) -> tuple[int, bool] | None:
        """The answer given to a question (counting from 1) and whether it was right."""
        got = self._all().get(key)
        if not isinstance(got, dict):
            return None
        return int(got.get("answer", 0)), bool(got.get("correct", False))  # type: ignore[call-overload]

    def score(self, project: Path, tour: Tour) -> Score:
        data = self._all()
        right = answered = questions = 0
        for k, step in enumerate(tour.steps):
            if step.question is None:
                continue
            questions += 1
            got = data.get(self.key(project, tour.name, k))
            if isinstance(got, dict):
                answered += 1
                right += bool(got.get("correct"))
        return Score(right, answered, questions)


class QtQuizPanel(QWidget):
    """The question of the step being shown, its answers and *Check*."""

    answered = Signal(int, bool)  # the answer (counting from 1), right or not

    def __init__(self, large: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tour-quiz")
        self.question: Question | None = None
        self.book: QuizBook | None = None
        self.key = ""
        self.score_text = lambda: ""
        size = "17pt" if large else "10pt"
        self.setStyleSheet(f"QLabel, QRadioButton, QPushButton {{ font-size: {size}; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 4)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-weight: bold;")
        lay.addWidget(self.text)
        self.choices = QButtonGroup(self)
        self.answers = QVBoxLayout()
        lay.addLayout(self.answers)
        row = QHBoxLayout()
        self.check = QPushButton("Check")
        self.check.clicked.connect(self._check)
        row.addWidget(self.check)
        self.score = QLabel()
        row.addWidget(self.score, 1)
        lay.addLayout(row)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.result)
        self.hide()

    def set_question(self, question: Question | None, book: QuizBook | None, key: str) -> None:
        """Ask ``question`` (None: hide); an answer given before is shown with its result."""
        self.question, self.book, self.key = question, book, key
        for button in self.choices.buttons():
            self.choices.removeButton(button)
            self.answers.removeWidget(button)
            button.hide()
            button.setParent(None)
            button.deleteLater()
        self.result.clear()
        if question is None:
            self.hide()
            return
        self.text.setText(question.text)
        for n, answer in enumerate(question.answers, 1):
            button = QRadioButton(answer)
            self.choices.addButton(button, n)
            self.answers.addWidget(button)
        self.check.setEnabled(True)
        before = book.answer(key) if book is not None else None
        if before is not None and 1 <= before[0] <= len(question.answers):
            self.choices.button(before[0]).setChecked(True)
            self._show_result(before[0])
        self.score.setText(self.score_text())
        self.show()

    def choose(self, answer: int) -> None:
        """Pick an answer (counting from 1) and check it, as a click on it and *Check*."""
        button = self.choices.button(answer)
        if button is not None:
            button.setChecked(True)
            self._check()

    def _check(self) -> None:
        q = self.question
        answer = self.choices.checkedId()
        if q is None or answer < 1:
            self.result.setText("Pick an answer first.")
            return
        correct = answer == q.correct
        if self.book is not None:
            self.book.record(self.key, answer, correct)
        self._show_result(answer)
        self.score.setText(self.score_text())
        self.answered.emit(answer, correct)

    def _show_result(self, answer: int) -> None:
        q = self.question
        assert q is not None
        if answer == q.correct:
            verdict = f"<b style='color:{RIGHT}'>Right.</b>"
        else:
            right = q.answers[q.correct - 1]
            verdict = f"<b style='color:{WRONG}'>Not quite:</b> the answer is <i>{_esc(right)}</i>."
        explanation = f" {_esc(q.explanation)}" if q.explanation else ""
        self.result.setText(verdict + explanation)

    @property
    def verdict(self) -> str:
        return self.result.text()


def _esc(text: str) -> str:
    return html.escape(text)
