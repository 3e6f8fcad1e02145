"""The torch.nn modules whose state_dict() is mcl-ref's (README "Using a trained run"): an MLP or CNN
encoder and the projection head, under the names ``encoder.<i>.<field>`` and ``head.<i>.<field>``;
CLIP's text tower under ``embedding.weight`` and ``mlp.<i>.<field>`` (Models/TextTower.swift)."""
import torch.nn as nn


def mlp_encoder(input_width, hidden, rep_width, batch_norm=True, dtype=None):
    layers, width = [], input_width
    for h in hidden:
        layers += [nn.Linear(width, h, dtype=dtype)] + ([nn.BatchNorm1d(h, dtype=dtype)] if batch_norm else [])
        layers += [nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, rep_width, dtype=dtype))


def cnn_encoder(channels, widths, rep_width, dtype=None):
    layers, width = [], channels
    for i, w in enumerate(widths):
        layers += [nn.Conv2d(width, w, 3, stride=1 if i == 0 else 2, padding=1, dtype=dtype),
                   nn.BatchNorm2d(w, dtype=dtype), nn.ReLU()]
        width = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, rep_width, dtype=dtype))


def projection_head(rep_width, hidden, out_width, batch_norm=True, dtype=None):
    return nn.Sequential(nn.Linear(rep_width, hidden, dtype=dtype),
                         *([nn.BatchNorm1d(hidden, dtype=dtype)] if batch_norm else []), nn.ReLU(),
                         nn.Linear(hidden, out_width, dtype=dtype))


class ContrastiveModel(nn.Module):
    """encoder f (representations) followed by the projection head g (embeddings)."""

    def __init__(self, encoder, head):
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, x):
        return self.head(self.encoder(x))


def contrastive_model(input_width, hidden, rep_width, head_hidden, emb_width, batch_norm=True, dtype=None):
    return ContrastiveModel(mlp_encoder(input_width, hidden, rep_width, batch_norm, dtype),
                            projection_head(rep_width, head_hidden, emb_width, batch_norm, dtype))


class TextTower(nn.Module):
    """CLIP's text tower in small: token embedding (id 0 = padding), the mean of a caption's non-padding
    token vectors (repeats counted), then Linear-ReLU-Linear. captions B×L int64 → B×out_width."""

    def __init__(self, vocabulary, word_width, hidden, out_width, dtype=None):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, word_width, padding_idx=0, dtype=dtype)
        self.mlp = nn.Sequential(nn.Linear(word_width, hidden, dtype=dtype), nn.ReLU(),
                                 nn.Linear(hidden, out_width, dtype=dtype))

    def forward(self, captions):
        real = (captions != 0).unsqueeze(2)                                   # B×L×1
        words = (self.embedding(captions) * real).sum(1)                      # B×W
        return self.mlp(words / real.sum(1).clamp(min=1).to(words.dtype))
