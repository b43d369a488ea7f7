"""Claims (レセプト): a facility's month from the desk's visits, the 不詳 checklist (RULES
R-E1–E8), UKE claim files (uke.py, layouts in uke_codes.py) and the review of the 審査支払機関
(review.py: 振替 R-R1, 分割 R-R2, 変更なし R-R3, 返戻 R-R4, 不詳 R-R5). service.py holds one
function per business operation; cli.py and http.py are thin."""
