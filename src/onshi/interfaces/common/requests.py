"""Request models shared by the JSON routes and the lookup fast path (defined once, so the
OpenAPI document and the fast path validate alike)."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...registry.models import Day


class CardLookup(BaseModel):
    """マイナ保険証 / スマホ保険証 read at the facility's reader."""

    model_config = ConfigDict(extra="forbid")
    card_serial: str = Field(min_length=1, max_length=16)
    identity: Literal["face", "pin", "visual", "none"] = "face"
    method: Literal["my_number_card", "smartphone"] = "my_number_card"
    date: Day | None = Field(None, description="verify as of this day (default: today)")
    limit_consent: bool = Field(False, description="the patient consents to return 限度額 data")


class NumberLookup(BaseModel):
    """一件照会 by 被保険者番号等 and birth date."""

    model_config = ConfigDict(extra="forbid")
    insurer_number: str = Field(max_length=10)
    symbol: str | None = Field(None, max_length=40)
    number: str = Field(max_length=40)
    branch: str | None = Field(None, max_length=4)
    birth_date: Day
    date: Day | None = None
    limit_consent: bool = False
