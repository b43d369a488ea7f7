"""onshi — an open implementation of Japan's online eligibility system (オンライン資格確認等システム)."""

__version__ = "0.1.0"
