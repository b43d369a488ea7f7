"""The reception pages (受付画面, 被保険者資格申立書, 本日の受付一覧, 保険者画面, 制度カレンダー),
server-rendered with Jinja2 and served by `onshi serve` with the API. See routes.py."""

from .routes import router

__all__ = ["router"]
