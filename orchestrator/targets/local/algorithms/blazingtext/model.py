"""The trained text classifier: TF-IDF word n-grams and an SGD-trained linear model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_FILE = "blazingtext-model.joblib"


@dataclass
class TextClassifier:
    vectorizer: Any
    estimator: Any

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.estimator.classes_]

    def probabilities(self, sentences: list[str]) -> np.ndarray:
        return self.estimator.predict_proba(self.vectorizer.transform(sentences))

    def top_k(self, sentences: list[str], ks: list[int]) -> list[tuple[list[str], list[float]]]:
        """Each sentence's k most likely labels with their probabilities, most likely first."""
        labels = self.labels
        answers = []
        for row, k in zip(self.probabilities(sentences), ks, strict=True):
            order = np.argsort(-row, kind="stable")[: max(1, min(k, len(labels)))]
            answers.append(([labels[i] for i in order], [float(row[i]) for i in order]))
        return answers

    def accuracy(self, sentences: list[str], labels: list[str]) -> float:
        predicted = np.asarray(self.labels)[self.probabilities(sentences).argmax(axis=1)]
        return float(np.mean(predicted == np.asarray(labels)))
