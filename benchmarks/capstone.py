"""One training epoch of the capstone network (chapter 9), in labs and in PyTorch.

Both run exactly the code the chapter runs (``labs.capstone.train_epoch``): 42
mini-batches of 32 digits, forward, cross-entropy, backward and an Adam step each, in
float32, from the same initial weights.
"""

from __future__ import annotations

import torch

import labs
from labs import capstone


def epoch_runners():
    """Two functions without arguments, each training one epoch (labs, then torch)."""
    X_train, _, y_train, _ = capstone.load_digits_split()
    torch.manual_seed(0)
    torch_net = capstone.make_network(torch)
    labs_net = capstone.make_network(labs)
    labs_net.load_state_dict(torch_net.state_dict())
    optimizers = {
        labs: labs.optim.Adam(labs_net.parameters(), lr=0.005),
        torch: torch.optim.Adam(torch_net.parameters(), lr=0.005),
    }

    def runner(lib, network):
        def run_epoch():
            capstone.train_epoch(
                lib, network, optimizers[lib], X_train, y_train, epoch=0
            )

        return run_epoch

    return runner(labs, labs_net), runner(torch, torch_net)
