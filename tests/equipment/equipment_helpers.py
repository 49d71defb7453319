"""Constants the equipment tests share (a module of its own: `conftest` names several modules in this suite)."""

from __future__ import annotations

import datetime as dt

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DAY = dt.timedelta(days=1)
