"""The smallest mmengine model that trains: a linear layer on 2 inputs with a squared loss (stack lane only)."""

from __future__ import annotations

import torch
from mmengine.model import BaseModel


class ToyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode="tensor"):
        out = self.linear(inputs)
        if mode == "loss":
            return {"loss": ((out.squeeze(-1) - labels) ** 2).mean()}
        return out
