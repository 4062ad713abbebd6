"""The notebook's progress bar for long work (an ipywidgets bar with a label)."""

from __future__ import annotations

from typing import Any

import ipywidgets

from ..progress import ProgressBase


class NotebookProgress(ProgressBase):
    """Displayed when created and hidden when closed."""

    def __init__(self, total: int, description: str, display: Any = None) -> None:
        super().__init__(total, description)
        self._bar = ipywidgets.IntProgress(value=0, min=0, max=max(self.total, 1))
        self._label = ipywidgets.Label(self.text())
        self.widget = ipywidgets.HBox([self._bar, self._label])
        if display is None:
            from IPython.display import display
        display(self.widget)

    def _draw(self) -> None:
        self._bar.value = min(self.done, self._bar.max)
        self._label.value = self.text()

    def _finish(self) -> None:
        self._draw()
        self.widget.close()
