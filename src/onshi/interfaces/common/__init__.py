"""Pieces every interface router shares: request models, API-key extraction and
dependencies, problem+json bodies. They import nothing from the routers, so imports run one
way: routers → common."""
