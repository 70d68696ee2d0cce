"""Administrative units: a tree stored with a materialised path."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models_base import Base, UTCDateTime, utcnow

# Paths compare byte-wise so that a prefix range is an index range on every
# backend; PostgreSQL's default collation would not order '/' before digits.
PathString = String(400).with_variant(String(400, collation="C"), "postgresql")


class OrgUnit(Base):
    """A province, district, commune, ward or town; the depth is data, not code.

    ``path`` is ``/<id>/<id>/.../`` from the root down to this unit, so
    "this unit and everything below it" is the prefix range
    ``[path, path[:-1] + '0')`` on one index.
    """

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))  # province | district | commune
    kind: Mapped[str] = mapped_column(String(40), default="")  # "Huyện", "Phường", ...
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(PathString, default="", index=True)
    depth: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[OrgUnit | None] = relationship(
        remote_side="OrgUnit.id", foreign_keys=[parent_id]
    )

    @property
    def label(self) -> str:
        """How a unit is named to people: its kind and name, "Huyện Lạng Giang"."""
        return f"{self.kind} {self.name}".strip()

    @property
    def subtree_bounds(self) -> tuple[str, str]:
        return self.path, self.path[:-1] + "0"

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"
