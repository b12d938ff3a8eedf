"""The trained k-NN model: an exact neighbour index plus the labels it votes with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_FILE = "knn-model.joblib"
METRICS = {"L2": "euclidean", "COSINE": "cosine"}


@dataclass
class Neighbours:
    """What one query returns: the vote, and the neighbours' distances (ascending) and labels."""

    predicted_labels: np.ndarray
    distances: np.ndarray
    labels: np.ndarray


@dataclass
class NeighbourModel:
    index: Any  # a fitted sklearn.neighbors.NearestNeighbors
    labels: np.ndarray
    k: int
    predictor_type: str

    @classmethod
    def fit(
        cls, features: np.ndarray, labels: np.ndarray, k: int, predictor_type: str, index_metric: str
    ) -> NeighbourModel:
        from sklearn.neighbors import (
            NearestNeighbors,  # imported late: a job that fails early stays quick
        )

        index = NearestNeighbors(n_neighbors=k, metric=METRICS[index_metric]).fit(features)
        return cls(index=index, labels=labels.astype(np.float64), k=k, predictor_type=predictor_type)

    @property
    def feature_dim(self) -> int:
        return int(self.index.n_features_in_)

    def predict(self, rows: np.ndarray) -> Neighbours:
        distances, indices = self.index.kneighbors(rows, n_neighbors=self.k)
        labels = self.labels[indices]
        return Neighbours(self._vote(labels), distances, labels)

    def leave_one_out(self, rows: np.ndarray, row_indices: np.ndarray) -> np.ndarray:
        """Predictions for training rows with each row's own entry left out of its neighbours."""
        k = min(self.k + 1, len(self.labels))
        _, indices = self.index.kneighbors(rows, n_neighbors=k)
        kept = np.array(
            [
                [i for i in neighbours if i != own][: self.k]
                for neighbours, own in zip(indices, row_indices, strict=True)
            ]
        )
        return self._vote(self.labels[kept])

    def _vote(self, neighbour_labels: np.ndarray) -> np.ndarray:
        if self.predictor_type == "regressor":
            return neighbour_labels.mean(axis=1)
        votes = []
        for row in neighbour_labels:
            values, counts = np.unique(row, return_counts=True)
            votes.append(values[np.argmax(counts)])  # a tie goes to the smallest label
        return np.asarray(votes, dtype=np.float64)
