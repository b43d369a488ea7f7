"""A deterministic, realistic population for demos and load tests (`onshi seed`).

Given (people, seed, today) the registry always receives the same rows:

- insurers with valid check digits (R-P5): 47 協会けんぽ branches, 健保組合, 共済組合,
  市町村国保 and 47 後期高齢者医療広域連合, always including the four insurers of the example
  case files (01130012, 06139984, 138057, 39131156); random demo keys for one facility and
  01130012 (printed once; `onshi keys` makes the others);
- facilities (医科 / 歯科 / 調剤) spread over the prefectures, a few paper-claim ones (R-T4);
- people following Japan's 2025 age pyramid, in households: employees with their
  dependents on one 記号・番号 (枝番 00, 01, …), 国保 households, 後期高齢者 from the 75th
  birthday (R-P4), recent job changes whose new qualification is not registered yet (R-I1, F.1);
- My Number cards whose certificates expire in the renewal waves of 電子証明書の更新必要件数
  (seed 002), with renewals, grace periods and lapses (R-B1–B4);
- the documents insurers sent: the old insurance cards (A6) and the employee insurers'
  FY2024 お知らせ (R-I4d); then the history of the insurers' issuance runs since 2024-12-02
  (issuance/history.py: the real runs, monthly, over what the seed recorded — acquisitions,
  losses, applications, returned cards, each insurer's options), which sends every 資格確認書
  and 資格情報のお知らせ from then on (R-I3 … R-I7, R-T3).

The 個人番号 exists only inside the generator, as input to `my_number_hash`.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import random
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate

from sqlalchemy import Engine, bindparam, select, text

from .. import config
from ..domain.card import card_expiry, card_status, cert_expiry, grace_period_end
from ..domain.copay import elderly_start, kouki_start
from ..domain.dates import add_months, age_on, anniversary, birthday_in_year
from ..domain.numbers import PREFECTURES, my_number_check_digit, with_check_digit
from . import db, schema
from .bulk import BulkWriter
from .keys import demo_keys, put_setting
from .security import my_number_hash

Date = dt.date
DAY = dt.timedelta(days=1)
CHUNK = 50_000  # people generated and written per step

# ---------------------------------------------------------------- reference data

# Population by prefecture (10,000 people, 2024 estimates, rounded) → where people live.
PREF_POPULATION = (
    509, 118, 116, 225, 91, 102, 176, 281, 190, 190, 733, 626, 1418, 922, 211, 100, 110, 74, 80, 200, 194, 355, 748, 171,
    140, 253, 876, 532, 129, 89, 54, 65, 184, 272, 130, 69, 93, 128, 66, 510, 80, 126, 172, 110, 104, 155, 147,
)
# Municipalities per prefecture (1,718 in all) → how many 市町村国保 at full scale.
MUNICIPALITY_COUNT = (
    179, 40, 33, 35, 25, 35, 59, 44, 25, 35, 63, 54, 62, 33, 30, 15, 19, 17, 27, 77, 42, 35, 54, 29,
    19, 26, 43, 41, 39, 30, 19, 19, 27, 23, 19, 24, 17, 20, 34, 60, 20, 21, 45, 18, 26, 43, 41,
)
# First three digits of the postcodes of each prefecture (inclusive range).
POSTCODE_PREFIX = (
    (40, 99), (30, 39), (20, 29), (980, 989), (10, 19), (990, 999), (960, 979), (300, 319), (320, 329), (370, 379),
    (330, 369), (260, 299), (100, 208), (210, 259), (940, 959), (930, 939), (920, 929), (910, 919), (400, 409),
    (380, 399), (500, 509), (410, 439), (440, 499), (510, 519), (520, 529), (600, 629), (530, 599), (650, 679),
    (630, 639), (640, 649), (680, 689), (690, 699), (700, 719), (720, 739), (740, 759), (770, 779), (760, 769),
    (790, 799), (780, 789), (800, 839), (840, 849), (850, 859), (860, 869), (870, 879), (880, 889), (890, 899), (900, 909),
)
# Real municipalities, largest first; the rest of each prefecture is made up from _MUNI_PARTS.
# 練馬区 comes first in Tokyo: the example cases use its 国保 (138057).
MAJOR_MUNICIPALITIES = (
    "札幌市 旭川市 函館市 苫小牧市 帯広市 釧路市 江別市 北見市 小樽市",
    "青森市 八戸市 弘前市 十和田市 むつ市",
    "盛岡市 一関市 奥州市 花巻市 北上市",
    "仙台市 石巻市 大崎市 名取市 登米市",
    "秋田市 横手市 大仙市 由利本荘市 能代市",
    "山形市 鶴岡市 酒田市 米沢市 天童市",
    "郡山市 いわき市 福島市 会津若松市 須賀川市",
    "水戸市 つくば市 日立市 ひたちなか市 古河市 土浦市",
    "宇都宮市 小山市 栃木市 足利市 那須塩原市",
    "前橋市 高崎市 太田市 伊勢崎市 桐生市",
    "さいたま市 川口市 川越市 所沢市 越谷市 草加市 春日部市 上尾市",
    "千葉市 船橋市 松戸市 市川市 柏市 市原市 八千代市 流山市",
    "練馬区 世田谷区 大田区 江戸川区 足立区 杉並区 板橋区 八王子市 江東区 葛飾区 町田市 品川区 北区 新宿区 中野区"
    " 豊島区 目黒区 墨田区 府中市 調布市 港区 渋谷区 文京区 荒川区 台東区 中央区 千代田区 西東京市 小平市 三鷹市"
    " 日野市 立川市 武蔵野市 東村山市 多摩市 青梅市 国分寺市 小金井市 東久留米市 昭島市 稲城市 狛江市 武蔵村山市"
    " 東大和市 清瀬市 国立市 福生市 あきる野市 羽村市 瑞穂町 日の出町 檜原村 奥多摩町 大島町 八丈町 三宅村 新島村"
    " 神津島村 利島村 御蔵島村 青ヶ島村 小笠原村",
    "横浜市 川崎市 相模原市 藤沢市 横須賀市 平塚市 茅ヶ崎市 大和市 厚木市",
    "新潟市 長岡市 上越市 三条市 柏崎市",
    "富山市 高岡市 射水市 砺波市",
    "金沢市 白山市 小松市 加賀市",
    "福井市 坂井市 越前市 鯖江市",
    "甲府市 甲斐市 南アルプス市 笛吹市",
    "長野市 松本市 上田市 佐久市 飯田市",
    "岐阜市 大垣市 各務原市 多治見市 可児市",
    "浜松市 静岡市 富士市 沼津市 磐田市 藤枝市",
    "名古屋市 豊田市 岡崎市 一宮市 豊橋市 春日井市 安城市",
    "四日市市 津市 鈴鹿市 松阪市 桑名市",
    "大津市 草津市 長浜市 東近江市 彦根市",
    "京都市 宇治市 亀岡市 舞鶴市 長岡京市",
    "大阪市 堺市 東大阪市 豊中市 枚方市 吹田市 高槻市 茨木市",
    "神戸市 姫路市 西宮市 尼崎市 明石市 加古川市 宝塚市",
    "奈良市 橿原市 生駒市 大和郡山市 香芝市",
    "和歌山市 田辺市 橋本市 紀の川市",
    "鳥取市 米子市 倉吉市 境港市",
    "松江市 出雲市 浜田市 益田市",
    "岡山市 倉敷市 津山市 総社市",
    "広島市 福山市 呉市 東広島市 尾道市",
    "下関市 山口市 宇部市 周南市 岩国市",
    "徳島市 阿南市 鳴門市 吉野川市",
    "高松市 丸亀市 三豊市 観音寺市",
    "松山市 今治市 新居浜市 西条市",
    "高知市 南国市 四万十市 香南市",
    "福岡市 北九州市 久留米市 飯塚市 大牟田市 春日市",
    "佐賀市 唐津市 鳥栖市 伊万里市",
    "長崎市 佐世保市 諫早市 大村市",
    "熊本市 八代市 天草市 玉名市",
    "大分市 別府市 中津市 佐伯市",
    "宮崎市 都城市 延岡市 日向市",
    "鹿児島市 霧島市 鹿屋市 薩摩川内市",
    "那覇市 沖縄市 うるま市 浦添市 宜野湾市",
)
_MUNI_PARTS = ("北南東西上下中大小高新本若白青松桜梅竹藤石金長広福富美豊朝日千八三", "山川田野原沢浜岡島崎津井瀬谷根里森丘浦江")
# 国保 that send a 資格確認書 to every member whatever their card (R-I3).
ALL_MEMBER_CERTIFICATES = {"渋谷区", "世田谷区"}
TOWNS = (
    "本町 中央 栄町 旭町 緑町 幸町 錦町 寿町 若葉町 桜町 東町 西町 南町 北町 元町 大町 新町 住吉町 日の出町 宮町 松原 青葉台"
    " 桜台 富士見町 泉町 昭和町 平和町 千代田 弥生町 春日町 高砂町 港町 八幡町 天神町 山手町 美園 白山 清水町 朝日町 城東"
    " 城西 駅前 末広町 御幸町 本郷 原町 曙町 川端町 花園 光が丘 豊玉北 石神井町 大泉学園町 関町 中町 大和町 柳町 松が丘"
).split()
BUILDINGS = ("コーポ", "ハイツ", "メゾン", "レジデンス", "パークハウス", "グリーンハイツ", "サンハイツ", "ロイヤルマンション")
BUILDING_NAMES = ("桜", "緑", "若葉", "中央", "青葉", "富士", "白山", "栄", "旭", "平和", "ひまわり", "エクセル", "ドミール")

# Age pyramid (5-year bands, 2025, %) and the male share of each band.
AGE_BANDS = (3.3, 3.9, 4.2, 4.4, 5.0, 5.2, 5.1, 5.7, 6.2, 7.2, 7.8, 6.7, 6.1, 6.0, 7.2, 6.4, 4.9, 3.2, 2.2)
MALE_SHARE = (0.513,) * 4 + (0.512,) * 7 + (0.50,) * 2 + (0.485,) * 2 + (0.43,) * 2 + (0.34, 0.25)

# family name:reading, most common first (weights fall with rank).
SURNAMES = [tuple(s.split(":")) for s in """
佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト 中村:ナカムラ 小林:コバヤシ 加藤:カトウ
吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ 松本:マツモト 井上:イノウエ 木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ
山崎:ヤマザキ 森:モリ 池田:イケダ 橋本:ハシモト 阿部:アベ 石川:イシカワ 山下:ヤマシタ 中島:ナカジマ 石井:イシイ 小川:オガワ
前田:マエダ 岡田:オカダ 長谷川:ハセガワ 藤田:フジタ 後藤:ゴトウ 近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト
斉藤:サイトウ 福田:フクダ 太田:オオタ 西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ 中野:ナカノ 三浦:ミウラ
原田:ハラダ 中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ 田村:タムラ 中山:ナカヤマ 和田:ワダ 石田:イシダ 森田:モリタ
上田:ウエダ 原:ハラ 内田:ウチダ 柴田:シバタ 酒井:サカイ 宮崎:ミヤザキ 横山:ヨコヤマ 高木:タカギ 安藤:アンドウ 宮本:ミヤモト
大野:オオノ 小島:コジマ 谷口:タニグチ 今井:イマイ 工藤:クドウ 高田:タカダ 増田:マスダ 丸山:マルヤマ 杉山:スギヤマ 村田:ムラタ
大塚:オオツカ 小山:コヤマ 藤本:フジモト 平野:ヒラノ 新井:アライ 河野:コウノ 上野:ウエノ 武田:タケダ 野口:ノグチ 松井:マツイ
千葉:チバ 岩崎:イワサキ 菅原:スガワラ 木下:キノシタ 久保:クボ 佐野:サノ 野村:ノムラ 松尾:マツオ 市川:イチカワ 菊地:キクチ
杉本:スギモト 古川:フルカワ 大西:オオニシ 島田:シマダ 水野:ミズノ 桜井:サクライ 高野:タカノ 渡部:ワタナベ 吉川:ヨシカワ 山内:ヤマウチ
西田:ニシダ 飯田:イイダ 菊池:キクチ 西川:ニシカワ 小松:コマツ 北村:キタムラ 安田:ヤスダ 五十嵐:イガラシ 川口:カワグチ 平田:ヒラタ
関:セキ 中田:ナカタ 久保田:クボタ 服部:ハットリ 東:ヒガシ 岩田:イワタ 土屋:ツチヤ 川崎:カワサキ 福島:フクシマ 本田:ホンダ
辻:ツジ 樋口:ヒグチ 秋山:アキヤマ 田口:タグチ 永井:ナガイ 山中:ヤマナカ 中西:ナカニシ 吉村:ヨシムラ 川上:カワカミ 石原:イシハラ
大橋:オオハシ 松岡:マツオカ 馬場:ババ 浅野:アサノ 荒木:アラキ 大久保:オオクボ 野田:ノダ 小沢:オザワ 田辺:タナベ 川村:カワムラ
星野:ホシノ 黒田:クロダ 堀:ホリ 尾崎:オザキ 望月:モチヅキ 永田:ナガタ 熊谷:クマガイ 内藤:ナイトウ 松村:マツムラ 西山:ニシヤマ
大谷:オオタニ 平井:ヒライ 大島:オオシマ 岩本:イワモト 片山:カタヤマ 本間:ホンマ 早川:ハヤカワ 横田:ヨコタ 岡崎:オカザキ 荒井:アライ
大石:オオイシ 鎌田:カマタ 成田:ナリタ 宮田:ミヤタ 小田:オダ 石橋:イシバシ 篠原:シノハラ 須藤:スドウ 河合:カワイ 大川:オオカワ
高井:タカイ 松下:マツシタ 吉岡:ヨシオカ 桑原:クワハラ 小池:コイケ 青山:アオヤマ 飯塚:イイヅカ 宮下:ミヤシタ 中沢:ナカザワ 松原:マツバラ
矢野:ヤノ 浜田:ハマダ 杉浦:スギウラ 菅野:カンノ 北川:キタガワ 小西:コニシ 関口:セキグチ 西尾:ニシオ 岡:オカ 坂口:サカグチ
奥村:オクムラ 米田:ヨネダ 宮内:ミヤウチ 三宅:ミヤケ 栗原:クリハラ 川田:カワダ 竹田:タケダ 根本:ネモト 大森:オオモリ 堤:ツツミ
富田:トミタ 堀内:ホリウチ 土井:ドイ 原口:ハラグチ 森本:モリモト 岩井:イワイ 広瀬:ヒロセ 今村:イマムラ 戸田:トダ 安井:ヤスイ
高山:タカヤマ 福井:フクイ 南:ミナミ 森下:モリシタ 上原:ウエハラ 山根:ヤマネ 三上:ミカミ 小倉:オグラ 津田:ツダ 金井:カナイ
宇野:ウノ 中井:ナカイ 松山:マツヤマ 黒川:クロカワ 奥田:オクダ 内山:ウチヤマ 大竹:オオタケ 金田:カネダ 西:ニシ 中尾:ナカオ
日高:ヒダカ 坂井:サカイ 稲垣:イナガキ 福本:フクモト 菅:スガ 水谷:ミズタニ 田島:タジマ 野崎:ノザキ 大平:オオヒラ 今野:コンノ
堀田:ホッタ 吉原:ヨシハラ 西野:ニシノ 大木:オオキ 平山:ヒラヤマ 村井:ムライ 杉田:スギタ 浅井:アサイ 石塚:イシヅカ 竹中:タケナカ
岸:キシ 徳永:トクナガ 千田:チダ 小野寺:オノデラ 佐久間:サクマ 高松:タカマツ 寺田:テラダ 新田:ニッタ 関根:セキネ 宮川:ミヤガワ
""".split()]
# Okinawa has its own common names.
OKINAWA_SURNAMES = [tuple(s.split(":")) for s in (
    "比嘉:ヒガ 金城:キンジョウ 大城:オオシロ 宮城:ミヤギ 新垣:アラカキ 玉城:タマキ 上原:ウエハラ 島袋:シマブクロ 平良:タイラ"
    " 山城:ヤマシロ 知念:チネン 仲宗根:ナカソネ"
).split()]
# Variant kanji the insurers hold and JIS X 0208 cannot show (R-D4), with the common form
# the resident register may hold instead (R-I2 matches them through names.KANJI_VARIANTS).
VARIANT_SURNAMES = (
    ("髙橋", "高橋", "タカハシ"), ("山﨑", "山崎", "ヤマザキ"), ("𠮷田", "吉田", "ヨシダ"),
    ("德永", "徳永", "トクナガ"), ("濵田", "浜田", "ハマダ"), ("渡邉", "渡辺", "ワタナベ"),
)
VARIANT_SHARE = 0.012  # of households (渡邉 is in JIS X 0208; the others are not)
VARIANT_RESIDENT_COMMON = 0.5  # of those, the resident register keeps the common form
DV_SHARE = 0.0005

# Given names by era of birth: (born before, male names, female names).
GIVEN_NAMES = (
    (1950,
     "清:キヨシ 茂:シゲル 博:ヒロシ 勇:イサム 実:ミノル 進:ススム 正:タダシ 弘:ヒロシ 三郎:サブロウ 武:タケシ 正雄:マサオ 和夫:カズオ"
     " 幸雄:ユキオ 勝:マサル 隆:タカシ 稔:ミノル 一郎:イチロウ 義雄:ヨシオ 昭:アキラ 豊:ユタカ 秀雄:ヒデオ 保:タモツ 修:オサム"
     " 誠:マコト 利夫:トシオ 健二:ケンジ",
     "和子:カズコ 幸子:サチコ 節子:セツコ 洋子:ヨウコ 京子:キョウコ 久子:ヒサコ 恵子:ケイコ 美代子:ミヨコ 文子:フミコ 清子:キヨコ"
     " 君子:キミコ 静子:シズコ 千代子:チヨコ 弘子:ヒロコ 照子:テルコ 信子:ノブコ 敏子:トシコ 悦子:エツコ 光子:ミツコ 典子:ノリコ"
     " トミ:トミ ハル:ハル キヨ:キヨ 正子:マサコ 貞子:サダコ 和江:カズエ"),
    (1980,
     "誠:マコト 浩:ヒロシ 隆:タカシ 健一:ケンイチ 哲也:テツヤ 博之:ヒロユキ 浩二:コウジ 直樹:ナオキ 和彦:カズヒコ 修:オサム"
     " 剛:ツヨシ 聡:サトシ 英樹:ヒデキ 明:アキラ 秀樹:ヒデキ 達也:タツヤ 信也:シンヤ 裕之:ヒロユキ 智之:トモユキ 大輔:ダイスケ"
     " 健二:ケンジ 正人:マサト 学:マナブ 隆之:タカユキ 稔:ミノル 雅之:マサユキ",
     "恵子:ケイコ 由美子:ユミコ 裕子:ユウコ 真由美:マユミ 久美子:クミコ 明美:アケミ 直美:ナオミ 智子:トモコ 陽子:ヨウコ 美穂:ミホ"
     " 純子:ジュンコ 幸子:サチコ 京子:キョウコ 淳子:ジュンコ 香織:カオリ 由美:ユミ 恵美:エミ 洋子:ヨウコ 典子:ノリコ 美紀:ミキ"
     " 順子:ジュンコ 啓子:ケイコ 礼子:レイコ 千秋:チアキ さゆり:サユリ 真理子:マリコ"),
    (2000,
     "大輔:ダイスケ 拓也:タクヤ 翔太:ショウタ 健太:ケンタ 大樹:ダイキ 直樹:ナオキ 亮:リョウ 達也:タツヤ 和也:カズヤ 翔:ショウ"
     " 拓海:タクミ 雄太:ユウタ 誠:マコト 健:ケン 剛:ツヨシ 翼:ツバサ 大介:ダイスケ 祐介:ユウスケ 慎也:シンヤ 哲也:テツヤ 悠:ユウ"
     " 涼:リョウ 将太:ショウタ 貴之:タカユキ 雄一:ユウイチ 隼人:ハヤト",
     "愛:アイ 彩:アヤ 美咲:ミサキ 麻衣:マイ 舞:マイ 恵:メグミ 沙織:サオリ 智美:トモミ 友美:トモミ 千尋:チヒロ 明日香:アスカ"
     " 彩香:アヤカ 瞳:ヒトミ 奈々:ナナ 由佳:ユカ 真由:マユ 萌:モエ 優子:ユウコ 里美:サトミ 麻美:アサミ 遥:ハルカ 葵:アオイ"
     " 美穂:ミホ 香菜:カナ 沙也加:サヤカ 杏奈:アンナ"),
    (9999,
     "蓮:レン 大翔:ヒロト 陽翔:ハルト 悠真:ユウマ 湊:ミナト 樹:イツキ 蒼:アオイ 悠人:ユウト 颯太:ソウタ 大和:ヤマト 陽太:ヨウタ"
     " 翔太:ショウタ 拓海:タクミ 海斗:カイト 健太:ケンタ 優斗:ユウト 颯:ハヤテ 律:リツ 朝陽:アサヒ 碧:アオイ 奏太:ソウタ"
     " 結翔:ユイト 陸:リク 大輝:ダイキ 湊斗:ミナト 蒼空:ソラ",
     "陽菜:ヒナ 結衣:ユイ 凛:リン 結菜:ユイナ 芽依:メイ 葵:アオイ さくら:サクラ 美咲:ミサキ 莉子:リコ 陽葵:ヒマリ 紬:ツムギ"
     " 澪:ミオ 杏:アン 結愛:ユア 心春:コハル 咲良:サクラ 花:ハナ 美羽:ミウ 愛莉:アイリ 七海:ナナミ 優奈:ユウナ 彩花:アヤカ"
     " 柚希:ユズキ 琴音:コトネ 芽生:メイ 紗良:サラ"),
)

# Renewal waves of the 利用者証明用電子証明書 by fiscal year of expiry (seed 002,
# 電子証明書の更新必要件数, 10,000s), with a tail for cards issued after FY2023.
CERT_WAVES = {2021: 244, 2022: 205, 2023: 237, 2024: 1076, 2025: 2769, 2026: 2020, 2027: 2759,
              2028: 1400, 2029: 800, 2030: 600, 2031: 400}

# Insurance of a household's earner by age: (age below, [(kind, weight)…]).
EARNER_KINDS = (
    (65, (("kyokai", 44), ("kumiai", 31), ("kyosai", 8), ("kokuho", 17))),
    (70, (("kyokai", 25), ("kumiai", 12), ("kyosai", 5), ("kokuho", 58))),
    (75, (("kyokai", 7), ("kumiai", 4), ("kyosai", 1), ("kokuho", 88))),
)
EMPLOYEE_KINDS = ("kyokai", "kumiai", "kyosai")
JOB_CHANGE_SHARE = 0.03  # of working-age insured heads, within JOB_CHANGE_DAYS before today
JOB_CHANGE_DAYS = 120
UNREGISTERED_SHARE = 0.05  # of job changes: the new insurer has not registered yet (R-I1)
KOUKI_RATIOS = ((10, 73), (20, 20), (30, 7))

# Transition dates (RULES A6, T3).
CARD_START = Date(2016, 1, 12)  # first My Number cards
INSURANCE_USE_START = Date(2021, 3, 1)  # 健康保険証利用登録 opens
LAST_OLD_CARD = Date(2024, 12, 1)  # no 健康保険証 issued from 2024-12-02
EMPLOYEE_CARD_EXPIRY = Date(2025, 12, 1)
KOUKI_CARD_EXPIRY = Date(2025, 7, 31)
KOKUHO_CARD_EXPIRIES = ((Date(2025, 7, 31), 40), (Date(2025, 8, 31), 10), (Date(2025, 9, 30), 20),
                        (Date(2025, 10, 31), 15), (Date(2025, 11, 30), 15))
KOUKI_SYSTEM_START = Date(2008, 4, 1)

PERSON_COLS = ("id", "my_number_hash", "birth_date", "sex")
QUALIFICATION_COLS = ("id", "person_id", "insurer_number", "symbol", "number", "branch", "relation", "insured_name",
                      "card_classification", "start", "end", "loss_reason", "income", "kouki_ratio", "notified", "registered",
                      "name", "kana", "address", "postcode", "dv_flag", "mailing_address", "mailing_postcode")
CARD_COLS = ("serial", "person_id", "issued", "card_expires", "cert_expires", "insurance_registered", "revoked", "returned")
EVENT_COLS = ("qualification_id", "insurer_number", "kind", "date", "recorded")
APPLICATION_COLS = ("qualification_id", "insurer_number", "date", "reason", "recorded")
DOCUMENT_COLS = ("id", "person_id", "qualification_id", "kind", "form", "issued", "valid_from", "expires")
RESIDENT_COLS = ("my_number_hash", "name", "kana", "birth_date", "sex", "address")
CERTIFICATE_FORMS = {  # the 資格確認書 form an insurer prints (seed 002: カード型・はがき型・A4型)
    "employee": (("card", 75), ("postcard", 15), ("a4", 10)),
    "kokuho": (("card", 50), ("postcard", 35), ("a4", 15)),
    "kouki": (("card", 60), ("postcard", 35), ("a4", 5)),
}


def _pref_short(pref: str) -> str:
    return pref if pref == "北海道" else pref[:-1]


def _cum(weights) -> list[float]:  # noqa: ANN001
    return list(accumulate(weights))


def _pick(rng: random.Random, items, cum) -> object:  # noqa: ANN001
    return items[bisect.bisect_right(cum, rng.random() * cum[-1])]


def _weighted(pairs) -> tuple[tuple, list[float]]:  # noqa: ANN001
    return tuple(p[0] for p in pairs), _cum(p[1] for p in pairs)


def _days(rng: random.Random, lo: int, hi: int) -> dt.timedelta:
    return dt.timedelta(days=rng.randint(lo, hi))


def _uniform_date(rng: random.Random, lo: Date, hi: Date) -> Date:
    return lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


# ---------------------------------------------------------------- the catalogue


@dataclass(slots=True)
class Municipality:
    pref: int
    name: str
    insurer: str  # its 国保 保険者番号
    postcode: int  # first three digits
    card_expiry: Date  # date printed on its old 国保 cards
    symbols: tuple[str, ...]
    all_members: bool  # 資格確認書 to every member (R-I3)


class _Numbers:
    """記号・番号 of one insurer: employers (記号) and the next member number of each."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.symbols: list[str] = []
        self.next: list[int] = []
        self.members: list[int] = []  # employer index per member: new members join large employers
        self.used: set[str] = set()

    def _new_symbol(self, rng: random.Random) -> str:
        while True:
            if self.kind == "kyokai":
                symbol = str(rng.randint(10 ** (d := rng.choice((4, 4, 5, 6, 7, 8))) // 10, 10**d - 1))
            elif self.kind == "kumiai":
                symbol = str(rng.randint(1, rng.choice((99, 999, 9999))))
            else:
                symbol = str(rng.randint(10, rng.choice((999, 9999, 99999))))
            if symbol not in self.used:
                self.used.add(symbol)
                return symbol

    def assign(self, rng: random.Random) -> tuple[str, str]:
        new_employer = {"kyokai": 0.12, "kumiai": 0.02, "kyosai": 0.05}[self.kind]
        if not self.members or rng.random() < new_employer:
            self.symbols.append(self._new_symbol(rng))
            self.next.append(rng.randint(1, 60))
            e = len(self.symbols) - 1
        else:
            e = self.members[rng.randrange(len(self.members))]
        self.members.append(e)
        number = self.next[e]
        self.next[e] += rng.randint(1, 4)
        return self.symbols[e], str(number)


class Catalogue:
    """Insurers, municipalities and facilities, scaled to the population."""

    def __init__(self, people: int, seed: int) -> None:
        rng = random.Random(f"onshi-catalogue:{seed}:{people}")
        self.insurers: list[tuple[str, str, str, int]] = []  # number, name, kind, prefecture
        self.kyokai: dict[int, str] = {}
        self.kouki: dict[int, str] = {}
        for p, pref in enumerate(PREFECTURES, start=1):
            self.kyokai[p] = self._add(with_check_digit(f"01{p:02d}001"), f"全国健康保険協会{_pref_short(pref)}支部", "kyokai", p)
        self._kumiai(rng, people)
        self._kyosai(people)
        self._municipalities(rng, people)
        for p, pref in enumerate(PREFECTURES, start=1):
            self.kouki[p] = self._add(with_check_digit(f"39{p:02d}115"), f"{pref}後期高齢者医療広域連合", "kouki", p)
        self.pref_cum = _cum(PREF_POPULATION)
        # R-I4d: each employee insurer mailed its お知らせ to every member once, on a day of FY2024.
        self.notice_day = {n: Date(2024, 9, 2) + dt.timedelta(days=10 * rng.randrange(20)) for n, _, k, _ in self.insurers if k in EMPLOYEE_KINDS}
        self.certificate_years = {n: rng.choice((5, 5, 5, 3, 2)) for n, _, k, _ in self.insurers if k in EMPLOYEE_KINDS}
        self.facilities = self._facilities(rng, people)
        self.issuance_settings = self._issuance_settings(random.Random(f"onshi-issuance-settings:{seed}"))

    def _issuance_settings(self, rng: random.Random) -> list[tuple]:
        """Each insurer's issuance options (R-I3h, R-I6c; the policy defaults left unset) and the
        資格確認書 form it prints: (insurer_number, options JSON, certificate_form)."""
        all_members = {m.insurer for munis in self.municipalities.values() for m in munis if m.all_members}
        forms = {k: _weighted(v) for k, v in CERTIFICATE_FORMS.items()}
        rows = []
        for number, name, kind, _ in self.insurers:
            options: dict[str, object] = {}
            if number in all_members:
                options["certificate_to_all"] = True  # 渋谷区・世田谷区 国保 (ISSUANCE R-I3h)
            if kind in EMPLOYEE_KINDS and self.certificate_years[number] != 5:
                options["certificate_years"] = self.certificate_years[number]
            if name == "日本私立学校振興・共済事業団":
                options["certificate_until"] = "2029-11-30"  # 私学共済 prints one date for all (R-I6c)
            rows.append((number, json.dumps(options, sort_keys=True), _pick(rng, *forms[kind if kind in forms else "employee"])))
        return rows

    def _add(self, number: str, name: str, kind: str, pref: int) -> str:
        self.insurers.append((number, name, kind, pref))
        return number

    def _kumiai(self, rng: random.Random, people: int) -> None:
        count = min(1400, max(20, people // 5000))
        prefixes = ("日本 東洋 大和 関東 中部 近畿 九州 北海 東京 大阪 名古屋 横浜 神戸 京浜 三和 富士 旭 太陽 北辰 昭和 明和 朝日"
                    " 瑞穂 光和 東邦 大同 新和 協和 共栄 千代田 みらい さくら あおい 北斗 東和 西日本 東日本 中央 山陽 常盤").split()
        trades = ("電機 化学 製薬 自動車 自動車部品 鉄道 運輸 物流 建設 商事 証券 銀行 信用金庫 印刷 食品 製菓 飲料 情報サービス"
                  " ソフトウェア 電力 ガス 百貨店 不動産 機械 精機 鉄鋼 繊維 製紙 ガラス セメント 電子 通信 放送 新聞 出版 保険 リース"
                  " ホテル 外食 医療機器 工業 重工 航空 海運 薬品 電線 化成 産業").split()
        # 健保組合 cluster where head offices are.
        weights = [w * (4 if p == 13 else 2 if p == 27 else 1.5 if p == 23 else 1) for p, w in enumerate(PREF_POPULATION, start=1)]
        cum = _cum(weights)
        prefs = list(range(1, 48))
        used_numbers = {(13, 998)}
        names = {"霞が関健康保険組合"}
        self.kumiai = [self._add("06139984", "霞が関健康保険組合", "kumiai", 13)]
        while len(self.kumiai) < count:
            p = _pick(rng, prefs, cum)
            nnn = rng.randint(1, 999)
            if (p, nnn) in used_numbers:
                continue
            if rng.random() < 0.15:
                name = f"{PREFECTURES[p - 1]}{rng.choice(trades)}健康保険組合"
            else:
                name = f"{rng.choice(prefixes)}{rng.choice(trades)}健康保険組合"
            if name in names:
                continue
            used_numbers.add((p, nnn))
            names.add(name)
            self.kumiai.append(self._add(with_check_digit(f"06{p:02d}{nnn:03d}"), name, "kumiai", p))
        # Member counts differ a lot between 組合.
        self.kumiai_cum = _cum(rng.lognormvariate(0, 1.2) for _ in self.kumiai)

    def _kyosai(self, people: int) -> None:
        national = ("財務省共済組合 厚生労働省共済組合 国土交通省共済組合 文部科学省共済組合 防衛省共済組合 法務省共済組合 農林水産省共済組合"
                    " 総務省共済組合 経済産業省共済組合 外務省共済組合 裁判所共済組合 内閣共済組合 会計検査院共済組合 衆議院共済組合"
                    " 参議院共済組合").split()
        entries: list[tuple[str, str, int]] = [("31", national[0], 13), ("31", national[1], 13), ("34", "日本私立学校振興・共済事業団", 13)]
        next_national = 2
        by_population = sorted(range(1, 48), key=lambda p: -PREF_POPULATION[p - 1])
        for rank, p in enumerate(by_population):
            pref = PREFECTURES[p - 1]
            short = _pref_short(pref)
            entries += [("34", f"公立学校共済組合{short}支部", p), ("32", f"地方職員共済組合{short}支部", p),
                        ("33", f"警察共済組合{short}支部", p), ("32", f"{pref}市町村職員共済組合", p)]
            if p == 13:
                entries.append(("32", "東京都職員共済組合", 13))
            if rank < 12 and next_national < len(national):
                entries.append(("31", national[next_national], 13))
                next_national += 1
        entries += [("31", name, 13) for name in national[next_national:]]
        count = min(len(entries), max(10, people // 5000))
        serial: dict[tuple[str, int], int] = defaultdict(int)
        self.kyosai_by_pref: dict[int, list[str]] = defaultdict(list)
        self.kyosai_national: list[str] = []
        for law, name, p in entries[:count]:
            serial[(law, p)] += 1
            number = self._add(with_check_digit(f"{law}{p:02d}{100 + serial[(law, p)]:03d}"), name, "kyosai", p)
            (self.kyosai_national if law == "31" or name.startswith("日本私立") else self.kyosai_by_pref[p]).append(number)
        if not self.kyosai_national:
            self.kyosai_national = [n for numbers in self.kyosai_by_pref.values() for n in numbers]

    def _municipalities(self, rng: random.Random, people: int) -> None:
        total = min(1700, max(47, people // 500))
        expiry_days, expiry_cum = _weighted(KOKUHO_CARD_EXPIRIES)
        self.municipalities: dict[int, list[Municipality]] = {}
        self.muni_cum: dict[int, list[float]] = {}
        for p, pref in enumerate(PREFECTURES, start=1):
            n = min(MUNICIPALITY_COUNT[p - 1], max(1, round(total * MUNICIPALITY_COUNT[p - 1] / 1718)))
            names = MAJOR_MUNICIPALITIES[p - 1].split()[:n]
            stems = {name[:2] for name in MAJOR_MUNICIPALITIES[p - 1].split()}
            while len(names) < n:
                stem = rng.choice(_MUNI_PARTS[0]) + rng.choice(_MUNI_PARTS[1])
                if stem not in stems:
                    stems.add(stem)
                    names.append(stem + rng.choice("市市町町町村"))
            lo, hi = POSTCODE_PREFIX[p - 1]
            munis = []
            for i, name in enumerate(names):
                nnn = 805 if name == "練馬区" else 101 + i
                if name == "練馬区":
                    symbols = tuple(f"練{k:02d}" for k in range(1, 13))
                elif rng.random() < 0.3 and "\u4e00" <= name[0] <= "\u9fff":
                    symbols = tuple(f"{name[0]}{k:02d}" for k in range(1, rng.randint(2, 10)))
                else:
                    symbols = tuple(str(rng.randint(1, 999)) for _ in range(rng.randint(1, 6)))
                munis.append(Municipality(
                    pref=p, name=name, insurer=self._add(with_check_digit(f"{p:02d}{nnn:03d}"), name, "kokuho", p),
                    postcode=rng.randint(lo, hi), card_expiry=_pick(rng, expiry_days, expiry_cum),
                    symbols=tuple(dict.fromkeys(symbols)), all_members=name in ALL_MEMBER_CERTIFICATES,
                ))
            self.municipalities[p] = munis
            self.muni_cum[p] = _cum(1 / (r + 1) for r in range(len(munis)))

    def _facilities(self, rng: random.Random, people: int) -> list[tuple]:
        count = min(5000, max(20, people // 500))
        tables, table_cum = _weighted((("1", 60), ("3", 20), ("4", 20)))
        brands = "さくら あおば ひまわり たんぽぽ すずらん みどり つばめ わかば コスモス ふたば".split()
        prefs = list(range(1, 48))
        rows, codes, names = [], set(), set()
        while len(rows) < count:
            first = not rows
            p = 13 if first else _pick(rng, prefs, self.pref_cum)
            table = "1" if first else _pick(rng, tables, table_cum)
            code = f"{p:02d}{table}" + with_check_digit(f"{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}")
            if code in codes:
                continue
            muni = self.municipalities[p][0] if first else _pick(rng, self.municipalities[p], self.muni_cum[p])
            place = muni.name[:-1] if len(muni.name) > 2 else muni.name
            s = rng.choice(SURNAMES[:150])[0]
            town = rng.choice(TOWNS)
            if table == "1":
                name = rng.choice((f"{s}内科クリニック", f"{s}医院", f"{s}クリニック", f"{s}整形外科", f"{s}眼科医院",
                                   f"{town}こどもクリニック", f"{place}中央病院", f"{muni.name[-1]}立{place}病院", f"{s}耳鼻咽喉科", f"{s}皮膚科クリニック"))
            elif table == "3":
                name = rng.choice((f"{s}歯科医院", f"{s}歯科クリニック", f"{town}デンタルクリニック", f"{s}デンタルオフィス"))
            else:
                name = rng.choice((f"{town}薬局", f"{rng.choice(brands)}薬局 {place}店", f"{s}薬局", f"{rng.choice(brands)}調剤薬局"))
            if name in names:
                name = f"{name} {town}"
                if name in names:
                    continue
            codes.add(code)
            names.add(name)
            online = first or rng.random() >= 0.02  # R-T4 paper-claim facilities
            smartphone = first or rng.random() < 0.30
            mobile = rng.random() < 0.10
            rows.append((code, name, p, online, smartphone and online, mobile and online))
        if all(r[3] for r in rows):  # keep one paper-claim facility for demos
            code, name, p, *_ = rows[-1]
            rows[-1] = (code, name, p, False, False, False)
        return rows

    def pick_kumiai(self, rng: random.Random) -> str:
        return _pick(rng, self.kumiai, self.kumiai_cum)

    def pick_kyosai(self, rng: random.Random, pref: int) -> str:
        local = self.kyosai_by_pref.get(pref)
        pool = local if local and rng.random() < 0.8 else self.kyosai_national
        return pool[rng.randrange(len(pool))]


# ---------------------------------------------------------------- people


@dataclass(slots=True, eq=False)
class _Home:
    pref: int
    muni: Municipality
    address: str
    resident_address: str
    postcode: str


@dataclass(slots=True, eq=False)
class _Q:
    id: int
    insurer: str
    kind: str
    symbol: str
    number: str
    branch: str
    relation: str
    insured_name: str | None
    start: Date
    end: Date | None = None
    loss_reason: str | None = None
    income: str = "general"
    kouki_ratio: int | None = None
    notified: Date | None = None
    registered: Date | None = None
    printed_expiry: Date | None = None  # 国保: the date on the municipality's old cards

    def active_on(self, day: Date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


@dataclass(slots=True, eq=False)
class _Card:
    serial: str
    issued: Date
    card_expires: Date
    cert_expires: Date
    registered: Date | None
    revoked: Date | None = None
    grace_end: Date = Date.min  # the earlier of the two R-B2 grace ends

    def usable_on(self, day: Date) -> bool:
        """The card verifies as マイナ保険証 that day (R-B1, R-B2, R-B4)."""
        return (self.issued <= day and (self.revoked is None or self.revoked > day) and day <= self.grace_end
                and self.registered is not None and self.registered <= day)


@dataclass(slots=True, eq=False)
class _P:
    id: int
    birth: Date
    sex: int
    age: int
    student: bool = False
    taken: bool = False
    home: _Home | None = None
    name: str = ""
    kana: str = ""
    resident_name: str = ""
    quals: list[_Q] = field(default_factory=list)
    cards: list[_Card] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Household:
    head: _P
    partner: _P | None
    kids: list[_P] = field(default_factory=list)

    @property
    def parent_age(self) -> int:
        if self.partner is not None and self.partner.sex == 2:
            return self.partner.age
        return self.head.age


class _Generator:
    """Generates chunks of people; numbering state carries over from chunk to chunk."""

    def __init__(self, catalogue: Catalogue, people: int, seed: int, today: Date) -> None:
        self.cat = catalogue
        self.people = people
        self.seed = seed
        self.today = today
        self.mn_key = config.mynumber_key()
        self.numbers: dict[str, _Numbers] = {}
        self.kokuho_next: dict[tuple[str, str], int] = {}
        self.kouki_next: dict[str, int] = defaultdict(int)
        self.next_qualification = 1
        self.next_document = 1
        self.next_card = 0
        self.band_cum = _cum(AGE_BANDS)
        self.surname_cum = _cum(1 / (r + 5) for r in range(len(SURNAMES)))
        self.given = [(before, [tuple(s.split(":")) for s in men.split()], [tuple(s.split(":")) for s in women.split()])
                      for before, men, women in GIVEN_NAMES]
        self.given_cum = [(_cum(1 / (r + 4) for r in range(len(men))), _cum(1 / (r + 4) for r in range(len(women))))
                          for _, men, women in self.given]
        self.earner = [(below, *_weighted(kinds)) for below, kinds in EARNER_KINDS]
        self.ratios, self.ratio_cum = _weighted(KOUKI_RATIOS)
        rng = random.Random(f"onshi-serials:{seed}")
        self.card_offset = rng.randrange(1 << 60)
        self.mn_offset = rng.randrange(10**11)
        self.kouki_offset = rng.randrange(9 * 10**7)

    # -------------------------------------------------- one chunk

    def chunk(self, index: int, first_id: int, n: int) -> dict[str, list[tuple]]:
        rng = random.Random(f"onshi-people:{self.seed}:{self.people}:{self.today.isoformat()}:{index}")
        people = [self._person(rng, first_id + i) for i in range(n)]
        households, elders = self._households(rng, people)
        changes: list[list[_Q]] = []
        for h in households:
            self._insure_household(rng, h, changes)
        for couple in elders:
            for p in couple:
                self._insure_kouki(rng, p)
        self._registration_lag(rng, changes)
        for p in people:
            self._cards(rng, p)
        return self._rows(rng, people)

    def _person(self, rng: random.Random, pid: int) -> _P:
        band = bisect.bisect_right(self.band_cum, rng.random() * self.band_cum[-1])
        if band == len(AGE_BANDS) - 1:
            years = 90 + min(rng.expovariate(0.25), 17)
        else:
            years = 5 * band + 5 * rng.random()
        birth = self.today - dt.timedelta(days=int(years * 365.2425))
        sex = 1 if rng.random() < MALE_SHARE[band] else 2
        age = age_on(birth, self.today)
        return _P(id=pid, birth=birth, sex=sex, age=age, student=18 <= age <= 21 and rng.random() < 0.55)

    # -------------------------------------------------- households

    def _households(self, rng: random.Random, people: list[_P]) -> tuple[list[_Household], list[list[_P]]]:
        adults = [p for p in people if 18 <= p.age < 75 and not p.student]
        elders = [p for p in people if p.age >= 75]
        kids = [p for p in people if p.age < 18 or p.student]
        households = [_Household(a, b) for a, b in self._couples(rng, adults, self._married_share)]
        elder_homes = [[a] + ([b] if b else []) for a, b in self._couples(rng, elders, lambda age: 0.5)]
        self._attach_children(rng, households, kids)
        for h in households:
            self._settle(rng, [h.head] + ([h.partner] if h.partner else []) + h.kids)
        for members in elder_homes:
            self._settle(rng, members)
        return households, elder_homes

    @staticmethod
    def _married_share(age: int) -> float:
        if age < 25:
            return 0.08
        if age < 30:
            return 0.30
        if age < 35:
            return 0.55
        if age < 40:
            return 0.65
        return 0.70

    @staticmethod
    def _couples(rng: random.Random, people: list[_P], share) -> list[tuple[_P, _P | None]]:  # noqa: ANN001
        order = people[:]
        rng.shuffle(order)
        buckets: dict[tuple[int, int], list[_P]] = defaultdict(list)
        for p in order:
            buckets[(p.sex, p.age)].append(p)
        couples = []
        for p in order:
            if p.taken:
                continue
            p.taken = True
            spouse = None
            f = share(p.age)
            if rng.random() < f / (2 - f):  # each couple uses two people: aim at share f married
                target = p.age + (-2 if p.sex == 1 else 2) + round(rng.gauss(0, 3))
                for d in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5):
                    bucket = buckets.get((3 - p.sex, target + d))
                    while bucket and bucket[-1].taken:
                        bucket.pop()
                    if bucket:
                        spouse = bucket.pop()
                        spouse.taken = True
                        break
            couples.append((p, spouse))
        return couples

    def _attach_children(self, rng: random.Random, households: list[_Household], kids: list[_P]) -> None:
        married: dict[int, list[_Household]] = defaultdict(list)
        single: dict[int, list[_Household]] = defaultdict(list)
        for h in households:
            (married if h.partner else single)[h.parent_age].append(h)
        rng.shuffle(kids)
        for kid in kids:
            home = None
            for _ in range(6):
                pool = married if rng.random() < 0.88 else single
                age = kid.age + rng.randint(23, 40)
                for d in (0, 1, -1, 2, -2):
                    bucket = pool.get(age + d)
                    while bucket:
                        i = rng.randrange(len(bucket))
                        if len(bucket[i].kids) < 4:
                            home = bucket[i]
                            break
                        bucket[i] = bucket[-1]
                        bucket.pop()
                    if home:
                        break
                if home:
                    break
            if home is None:  # no parent of a fitting age in this chunk: any adult old enough
                grown = [h for h in rng.sample(households, min(50, len(households))) if h.head.age >= kid.age + 18]
                if grown:
                    home = grown[0]
            if home is None:
                households.append(_Household(kid, None))  # lives alone, insured on their own
            else:
                home.kids.append(kid)
        for h in households:
            h.kids.sort(key=lambda k: k.birth)

    def _settle(self, rng: random.Random, members: list[_P]) -> None:
        """A home (prefecture, municipality, address) and the family's names."""
        pref = _pick(rng, range(1, 48), self.cat.pref_cum)
        muni = _pick(rng, self.cat.municipalities[pref], self.cat.muni_cum[pref])
        common = None
        if rng.random() < VARIANT_SHARE:
            variant, common, kana = VARIANT_SURNAMES[rng.randrange(len(VARIANT_SURNAMES))]
            surname = (variant, kana)
        elif pref == 47 and rng.random() < 0.4:
            surname = OKINAWA_SURNAMES[rng.randrange(len(OKINAWA_SURNAMES))]
        else:
            surname = _pick(rng, SURNAMES, self.surname_cum)
        town = rng.choice(TOWNS)
        c, b, g = rng.randint(1, 5), rng.randint(1, 30), rng.randint(1, 25)
        building = f" {rng.choice(BUILDINGS)}{rng.choice(BUILDING_NAMES)} {rng.randint(1, 8)}{rng.randint(1, 12):02d}" if rng.random() < 0.25 else ""
        place = f"{PREFECTURES[pref - 1]}{muni.name}{town}"
        address = f"{place}{c}-{b}-{g}{building}"
        # The resident register sometimes writes 丁目・番・号 (R-I2 folds both forms).
        resident = f"{place}{c}丁目{b}番{g}号{building}" if rng.random() < 0.1 else address
        home = _Home(pref, muni, address, resident, f"{muni.postcode:03d}-{rng.randint(0, 9999):04d}")
        for p in members:
            p.home = home
            given, given_kana = self._given(rng, p)
            p.name = f"{surname[0]} {given}"
            p.kana = f"{surname[1]} {given_kana}"
            p.resident_name = f"{common} {given}" if common and rng.random() < VARIANT_RESIDENT_COMMON else p.name

    def _given(self, rng: random.Random, p: _P) -> tuple[str, str]:
        year = p.birth.year
        for i, (before, men, women) in enumerate(self.given):
            if year < before:
                return _pick(rng, men, self.given_cum[i][0]) if p.sex == 1 else _pick(rng, women, self.given_cum[i][1])
        raise AssertionError("unreachable")

    # -------------------------------------------------- insurance

    def _earner_kind(self, rng: random.Random, age: int) -> str:
        for below, kinds, cum in self.earner:
            if age < below:
                return _pick(rng, kinds, cum)
        return "kokuho"

    def _insurer(self, rng: random.Random, kind: str, home: _Home) -> str:
        if kind == "kyokai":
            return self.cat.kyokai[home.pref]
        if kind == "kumiai":
            return self.cat.pick_kumiai(rng)
        if kind == "kyosai":
            return self.cat.pick_kyosai(rng, home.pref)
        return home.muni.insurer

    def _member_numbers(self, rng: random.Random, kind: str, insurer: str, home: _Home) -> tuple[str, str]:
        if kind == "kokuho":
            symbol = rng.choice(home.muni.symbols)
            key = (insurer, symbol)
            number = self.kokuho_next.get(key) or rng.randint(10000, 60000)
            self.kokuho_next[key] = number + rng.randint(1, 7)
            return symbol, str(number)
        book = self.numbers.get(insurer)
        if book is None:
            book = self.numbers[insurer] = _Numbers(kind)
        return book.assign(rng)

    def _employment_start(self, rng: random.Random, p: _P) -> Date:
        earliest = min(self.today, anniversary(p.birth, 18 if p.age < 23 else 22))
        span = (self.today - earliest).days
        start = self.today - dt.timedelta(days=int(span * rng.random() ** 1.6))
        if rng.random() < 0.6:
            start = start.replace(day=1)
        return max(start, earliest)

    def _stamps(self, rng: random.Random, q: _Q, newborn: bool = False) -> None:
        """notified ≈ start + 0–3 days (newborns later, R-E7), registered a few days after."""
        notified = q.start + (_days(rng, 7, 25) if newborn else _days(rng, 0, 3))
        registered = notified + _days(rng, 0, 4)
        q.notified = notified if notified <= self.today else None
        q.registered = registered if q.notified and registered <= self.today else None

    def _enrol(self, rng: random.Random, kind: str, head: _P, others: list[_P], start: Date, *, end: Date | None = None) -> list[_Q]:
        """One insured person and their family on one 記号・番号, branches 00, 01, … ."""
        insurer = self._insurer(rng, kind, head.home)
        symbol, number = self._member_numbers(rng, kind, insurer, head.home)
        quals = []
        for i, p in enumerate([head] + others):
            member_start = start if p is head else max(start, p.birth)
            if end is not None and member_start > end:
                continue
            q = _Q(
                id=self._qualification_id(), insurer=insurer, kind=kind, symbol=symbol, number=number, branch=f"{i:02d}",
                relation="self" if p is head else "family", insured_name=None if p is head else head.name, start=member_start,
                end=end, loss_reason="03" if end else None,
            )
            if kind == "kokuho":
                q.printed_expiry = head.home.muni.card_expiry
            if 70 <= age_on(p.birth, self.today) < 75 and rng.random() < 0.10:
                q.income = "high"  # 現役並み所得 (R-P3)
            self._stamps(rng, q, newborn=member_start == p.birth)
            p.quals.append(q)
            quals.append(q)
        return quals

    def _qualification_id(self) -> int:
        self.next_qualification += 1
        return self.next_qualification - 1

    def _insure_household(self, rng: random.Random, h: _Household, changes: list[list[_Q]]) -> None:
        head, partner = h.head, h.partner
        if partner is not None and head.age < 65 and partner.age < 65 and head.sex != partner.sex:
            if (head.sex == 2) == (rng.random() < 0.85):  # the insured earner is usually the husband
                head, partner = partner, head
        kind = "kokuho" if head.age < 18 else self._earner_kind(rng, head.age)  # a minor without parents here
        family: list[_P] = []
        if partner is not None:
            if kind == "kokuho":
                joins = partner.age >= 65 or rng.random() < 0.65
            else:
                joins = rng.random() < (0.5 if partner.sex == 2 and partner.age < 60 else 0.6 if partner.sex == 2 else 0.1)
            if joins:
                family.append(partner)
            else:
                own = self._earner_kind(rng, partner.age)
                if kind == "kokuho" and own == "kokuho":
                    family.append(partner)
                else:
                    self._enrol(rng, own, partner, [], self._head_start(rng, partner, own))
        family += h.kids
        start = head.birth if head.age < 18 else self._head_start(rng, head, kind)
        if 20 <= head.age < 65 and rng.random() < JOB_CHANGE_SHARE:
            self._job_change(rng, head, family, kind, start, changes)
        else:
            self._enrol(rng, kind, head, family, start)

    def _head_start(self, rng: random.Random, p: _P, kind: str) -> Date:
        if kind == "kokuho" and p.age >= 62 and rng.random() < 0.8:
            retired = anniversary(p.birth, rng.choice((60, 60, 60, 62, 65)))
            if retired <= self.today:
                return retired
        return self._employment_start(rng, p)

    def _job_change(self, rng: random.Random, head: _P, family: list[_P], kind: str, start: Date, changes: list[list[_Q]]) -> None:
        """The old qualification ends the day before the new one starts (loss reason 03);
        the dependents move with the insured. Registration lag is set in _registration_lag."""
        change = self.today - _days(rng, 0, JOB_CHANGE_DAYS)
        if start > change - dt.timedelta(days=60):
            start = max(change - _days(rng, 60, 900), anniversary(head.birth, 18))
        if start < change:
            self._enrol(rng, kind, head, family, start, end=change - DAY)
        if kind in EMPLOYEE_KINDS:
            u = rng.random()
            new_kind = rng.choice(EMPLOYEE_KINDS) if u < 0.75 else "kokuho"
        else:
            new_kind = rng.choice(EMPLOYEE_KINDS)
        changes.append(self._enrol(rng, new_kind, head, family, change))

    def _registration_lag(self, rng: random.Random, changes: list[list[_Q]]) -> None:
        """New insurers notify 0–5 days after the start and mostly register within 10 days of
        the notice (R-I1); some take 11–40 days and a few have not registered yet."""
        unregistered = 0
        for quals in changes:
            u = rng.random()
            notified_after = rng.randint(0, 5)
            lag = None if u < UNREGISTERED_SHARE else rng.randint(11, 40) if u < 0.2 else rng.randint(0, 10)
            unregistered += lag is None
            for q in quals:
                self._change_stamps(q, notified_after, lag)
        if changes and not unregistered:  # at least one per chunk, the most recent change
            quals = max(changes, key=lambda qs: qs[0].start)
            for q in quals:
                self._change_stamps(q, rng.randint(0, 5), None)

    def _change_stamps(self, q: _Q, notified_after: int, lag: int | None) -> None:
        notified = q.start + dt.timedelta(days=notified_after)
        q.notified = notified if notified <= self.today else None
        registered = notified + dt.timedelta(days=lag) if lag is not None and q.notified else None
        q.registered = registered if registered and registered <= self.today else None

    def _insure_kouki(self, rng: random.Random, p: _P) -> None:
        """後期高齢者医療 from the 75th birthday (R-P4), each member on their own number."""
        start = max(kouki_start(p.birth), KOUKI_SYSTEM_START)
        if (self.today - start).days < 730:  # recently moved from 国保: keep the ended one
            before = anniversary(p.birth, rng.choice((60, 65, 65, 70)))
            if before < start:
                self._enrol(rng, "kokuho", p, [], before, end=start - DAY)
        insurer = self.cat.kouki[p.home.pref]
        k = self.kouki_next[insurer]
        self.kouki_next[insurer] += 1
        number = f"{10**7 + (k * 55623059 + self.kouki_offset) % (9 * 10**7)}"  # unique 8 digits
        ratio = _pick(rng, self.ratios, self.ratio_cum)
        q = _Q(id=self._qualification_id(), insurer=insurer, kind="kouki", symbol="", number=number, branch="", relation="self",
               insured_name=None, start=start, income="high" if ratio == 30 else "general", kouki_ratio=ratio)
        if start == kouki_start(p.birth):  # the 広域連合 enrols a 75th birthday ahead (its documents go the month before, R-I6b)
            q.notified = start - _days(rng, 40, 75)
            q.registered = q.notified + _days(rng, 0, 4)
            if q.notified > self.today:
                q.notified = q.registered = None
            elif q.registered > self.today:
                q.registered = None
        else:
            self._stamps(rng, q)
        p.quals.append(q)

    # -------------------------------------------------- My Number cards

    def _serial(self) -> str:
        # A bijection of the counter onto 60 bits, written as 12 base32 characters (A–Z, 2–7).
        value = (self.next_card * 0x9E3779B97F4A7C1 + self.card_offset) % (1 << 60)
        self.next_card += 1
        return base64.b32encode((value << 4).to_bytes(8, "big"))[:12].decode()

    def _cards(self, rng: random.Random, p: _P) -> None:
        """A card whose certificate expires in a renewal wave (seed 002), then its renewals."""
        age = p.age
        holds = 0.50 if age < 5 else 0.78 if age < 15 else 0.83 if age < 65 else 0.85 if age < 85 else 0.65
        if rng.random() >= holds:
            return
        earliest = max(p.birth + dt.timedelta(days=30), CARD_START)  # an application takes a month
        issued = self._first_issue(rng, p.birth, earliest) if earliest <= self.today else None
        if issued is None:
            return
        will_register = rng.random() < (0.70 if age >= 85 else 0.86 if age >= 75 else 0.91)
        plan = self._registration_plan(rng, issued) if will_register else None
        while True:
            card_exp = card_expiry(p.birth, issued)
            cert_exp = cert_expiry(p.birth, issued, card_exp)
            registered = plan if plan is not None and plan <= self.today else None
            card = _Card(self._serial(), issued, card_exp, cert_exp, registered,
                         grace_end=min(grace_period_end(cert_exp), grace_period_end(card_exp)))
            p.cards.append(card)
            renewal = self._renewal(rng, card)
            if renewal is None or renewal > self.today or renewal <= issued:
                return
            card.revoked = renewal
            if plan is not None and renewal > card.grace_end:
                # R-B4: past the grace period the insurance registration is cancelled.
                plan = renewal + _days(rng, 0, 150) if rng.random() < 0.6 else None
            elif plan is not None:
                plan = max(plan, renewal)
            issued = renewal

    def _first_issue(self, rng: random.Random, birth: Date, earliest: Date) -> Date | None:
        """An issue date whose certificate expiry (5th birthday after issue, R-B1) falls in a
        fiscal year drawn from the renewal waves."""
        m, d = birth.month, birth.day
        leap = (m, d) == (2, 29)
        shift = 0 if (m, d) >= (4, 1) else 1  # the birthday in FY f falls in calendar year f + shift
        options, cum = [], []
        for fy, weight in CERT_WAVES.items():
            year = fy + shift
            lo = birthday_in_year(birth, year - 5) if leap else Date(year - 5, m, d)
            if lo > self.today:
                break
            hi = (birthday_in_year(birth, year - 4) if leap else Date(year - 4, m, d)) - DAY
            if hi < earliest:
                continue
            options.append((max(lo, earliest), min(hi, self.today)))
            cum.append((cum[-1] if cum else 0) + weight)
        if not options:
            return None
        lo, hi = options[bisect.bisect_right(cum, rng.random() * cum[-1])]
        return _uniform_date(rng, lo, hi)

    def _registration_plan(self, rng: random.Random, issued: Date) -> Date:
        """健康保険証利用登録: many during マイナポイント第2弾 (2022-06 – 2023-09)."""
        u = rng.random()
        if u < 0.25:
            day = _uniform_date(rng, INSURANCE_USE_START, Date(2022, 5, 31))
        elif u < 0.75:
            day = _uniform_date(rng, Date(2022, 6, 1), Date(2023, 9, 30))
        else:
            day = _uniform_date(rng, Date(2023, 10, 1), max(Date(2023, 10, 1), self.today))
        return max(day, issued + _days(rng, 0, 14), INSURANCE_USE_START)

    def _renewal(self, rng: random.Random, card: _Card) -> Date | None:
        """When the holder renews: mostly inside the alert window (R-B3) or the grace period
        (R-B2), some after it (R-B4), some never; a few replace a lost card early."""
        expiry = min(card.cert_expires, card.card_expires)
        if rng.random() < 0.005:
            span = (expiry - card.issued).days
            if span > 60:
                return card.issued + _days(rng, 30, span - 1)
        u = rng.random()
        if u < 0.55:
            return expiry - _days(rng, 0, 89)
        if u < 0.82:
            return expiry + _days(rng, 1, (card.grace_end - expiry).days)
        if u < 0.93:
            return card.grace_end + _days(rng, 1, 400)
        return None

    # -------------------------------------------------- documents and what the issuance runs read

    def _documents(self, rng: random.Random, p: _P) -> list[tuple]:
        """What insurers sent before the issuance runs of the history (issuance/history.py):
        the last old 保険証 (A6) of every qualification open on 2024-12-01 — 後期 renewed its
        cards on 2024-08-01 until 2025-07-31, 国保 printed its own expiry, employee insurers
        2025-12-01 — and the employee insurers' one-time お知らせ of FY2024 to every member (R-I4d).
        Everything from 2024-12-02 on (certificates, お知らせ, renewals, ends) comes from the runs."""
        docs: list[tuple] = []

        def emit(q: _Q, kind: str, issued: Date, valid_from: Date, expires: Date | None) -> None:
            if issued > self.today:
                return
            docs.append((self.next_document, p.id, q.id, kind, "a4" if kind == "notice" else None, issued, valid_from, expires))
            self.next_document += 1

        for q in p.quals:
            if q.start <= LAST_OLD_CARD and (q.end is None or q.end > LAST_OLD_CARD):
                if q.kind == "kouki":
                    emit(q, "insurance_card", max(q.start, Date(2024, 8, 1)), q.start, KOUKI_CARD_EXPIRY)
                elif q.kind == "kokuho":
                    emit(q, "insurance_card", max(q.start, add_months(q.printed_expiry, -12) + DAY), q.start, q.printed_expiry)
                else:
                    emit(q, "insurance_card", min(q.start + _days(rng, 5, 14), LAST_OLD_CARD), q.start, EMPLOYEE_CARD_EXPIRY)
            if q.kind in EMPLOYEE_KINDS:  # R-I4d: once, to every member, in FY2024
                day = self.cat.notice_day[q.insurer]
                if q.active_on(day):
                    emit(q, "notice", day, day, self._notice_expiry(p.birth, day))
        return docs

    @staticmethod
    def _notice_expiry(birth: Date, first: Date) -> Date | None:
        """R-I6d for an employee insurer's お知らせ: none, or from the copay-70 day the next 31 July
        (and never past the day before the 75th birthday)."""
        if first < elderly_start(birth):
            return None
        end = Date(first.year if first <= Date(first.year, 7, 31) else first.year + 1, 7, 31)
        return min(end, kouki_start(birth) - DAY)

    def _history(self, rng: random.Random, p: _P, dv: bool) -> dict[str, list[tuple]]:
        """The facts the history's runs react to, as the insurer operations record them
        (registry/events.py): acquisitions and registrations since 2024-12-02, losses,
        applications for a 資格確認書 (R-I3f, R-I3g), returned cards (R-I3c)."""
        events, applications = [], []
        for q in p.quals:
            if q.start > LAST_OLD_CARD and q.notified is not None:
                events.append((q.id, q.insurer, "acquisition", q.start, q.notified))
                if q.registered is not None:
                    events.append((q.id, q.insurer, "registration_done", q.registered, q.registered))
            if q.end is not None and q.end > LAST_OLD_CARD:
                events.append((q.id, q.insurer, "loss", q.end, min(q.end + _days(rng, 1, 5), self.today)))
            if q.end is not None and q.end < self.today:
                continue
            age = age_on(p.birth, self.today)
            u = rng.random()
            if q.kind == "kouki" and age < 85 and u < 0.04:  # keep a certificate after 2026-07 (R-I3g)
                day = _uniform_date(rng, Date(2026, 4, 1), Date(2026, 7, 20))
                applications.append((q.id, q.insurer, day, "care" if rng.random() < 0.7 else "other"))
            elif u < 0.004 + (0.01 if age >= 70 else 0):
                day = _uniform_date(rng, max(q.start, Date(2024, 12, 2)), self.today)
                applications.append((q.id, q.insurer, day, rng.choice(("care", "care", "card_lost", "card_renewal", "other"))))
        returned = []
        live = [c for c in p.cards if c.revoked is None and c.issued < self.today]
        if live and rng.random() < 0.0008:  # カード返納
            card = live[-1]
            card.revoked = _uniform_date(rng, max(card.issued, Date(2024, 12, 2)), self.today)
            returned.append(card.serial)
        mailing = None
        if dv and rng.random() < 0.9:  # the address the member gave for letters (R-I3e)
            pref = rng.randint(1, 47)
            muni = self.cat.municipalities[pref][0]
            mailing = (f"{PREFECTURES[pref - 1]}{muni.name}{rng.choice(TOWNS)}{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 25)} 支援センター気付",
                       f"{muni.postcode:03d}-{rng.randint(0, 9999):04d}")
        return {"member_event": [(None, *e) for e in events if e[4] <= self.today], "application": applications, "returned": returned,
                "mailing": mailing}

    # -------------------------------------------------- rows

    def _my_number(self, pid: int) -> str:
        body = f"{(pid * 61803398871 + self.mn_offset) % 10**11:011d}"  # a bijection: unique
        return body + str(my_number_check_digit(body))

    def _rows(self, rng: random.Random, people: list[_P]) -> dict[str, list[tuple]]:
        persons, quals, cards, docs, residents, events, applications = [], [], [], [], [], [], []
        dv = {p.id for p in rng.sample(people, max(1, round(len(people) * DV_SHARE)))} if people else set()
        for p in people:
            h = p.home
            mn_hash = my_number_hash(self._my_number(p.id), self.mn_key)
            persons.append((p.id, mn_hash, p.birth, p.sex))
            residents.append((mn_hash, p.resident_name, p.kana, p.birth, p.sex, h.resident_address))
            history = self._history(rng, p, p.id in dv)
            mailing = history["mailing"] or (None, None)
            for q in p.quals:  # each insurer holds the member's data (and its DV flag, R-D5) on its qualification
                quals.append((q.id, p.id, q.insurer, q.symbol, q.number, q.branch, q.relation, q.insured_name, "01",
                              q.start, q.end, q.loss_reason, q.income, q.kouki_ratio, q.notified, q.registered,
                              p.name, p.kana, h.address, h.postcode, p.id in dv, *mailing))
            for c in p.cards:
                returned = c.revoked if c.serial in history["returned"] else None
                cards.append((c.serial, p.id, c.issued, c.card_expires, c.cert_expires, c.registered, c.revoked, returned))
            docs += self._documents(rng, p)
            events += history["member_event"]
            applications += [(None, q, n, day, reason, day) for q, n, day, reason in history["application"]]
        return {"person": persons, "resident": residents, "qualification": quals, "card": cards, "document": docs,
                "member_event": [e[1:] for e in events], "certificate_application": [a[1:] for a in applications]}

# ---------------------------------------------------------------- public API


@dataclass
class SeedSummary:
    people: int
    qualifications: int
    cards: int
    documents: int
    insurers: int
    facilities: int
    seconds: float
    demo_facility_code: str
    demo_facility_key: str
    demo_insurer_number: str
    demo_insurer_key: str


DEMO_INSURER = "01130012"  # 協会けんぽ東京支部


def _progress(enabled: bool):  # noqa: ANN202
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), disable=not enabled,
    )


def seed_registry(engine: Engine, people: int, seed: int = 1, today: Date | None = None, progress: bool = True, history: bool = True) -> SeedSummary:
    """Fill an empty registry with `people` people and everything around them.

    The same (people, seed, today) always gives the same rows (with the same
    ONSHI_MYNUMBER_KEY), except the API keys: random demo keys for the demo facility and
    insurer (SeedSummary, shown once), and the `demo` setting that lets `onshi serve` make
    fresh ones on each start.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    if not db.is_empty(engine):
        raise RuntimeError("registry is not empty; use --reset")
    today = today or config.today()
    began = time.perf_counter()
    catalogue = Catalogue(people, seed)
    generator = _Generator(catalogue, people, seed, today)
    columns = {"person": PERSON_COLS, "resident": RESIDENT_COLS, "qualification": QUALIFICATION_COLS, "card": CARD_COLS,
               "document": DOCUMENT_COLS, "member_event": EVENT_COLS, "certificate_application": APPLICATION_COLS}
    counts: dict[str, int] = defaultdict(int)

    def write(rows: dict[str, list[tuple]]) -> None:
        for table, cols in columns.items():
            writer.write(table, cols, rows[table])
            counts[table] += len(rows[table])

    # The database takes one chunk (COPY, foreign-key checks) while the next is generated.
    with BulkWriter(engine) as writer, ThreadPoolExecutor(max_workers=1) as pool, _progress(progress) as bar:
        task = bar.add_task(f"seeding {people:,} people", total=people)
        writer.write("insurer", ("number", "name", "kind", "prefecture"), catalogue.insurers)
        writer.write("facility", ("code", "name", "prefecture", "online", "smartphone", "mobile_consent"), catalogue.facilities)
        writer.write("issuance_setting", ("insurer_number", "options", "certificate_form"), catalogue.issuance_settings)
        pending = None
        for index, first in enumerate(range(0, people, CHUNK)):
            size = min(CHUNK, people - first)
            rows = generator.chunk(index, first + 1, size)
            if pending is not None:
                pending.result()
                bar.advance(task, CHUNK)
            pending = pool.submit(write, rows)
        pending.result()
        bar.update(task, completed=people, description="statistics")
        writer.finish(("person", "qualification", "document", "member_event", "certificate_application"))
    if history:  # the insurers' issuance runs since 2024-12-02 (the seed plays them; issue 14 may call it from its own generator)
        from ..issuance.history import run_history

        run_history(engine, today, progress=progress)
        with engine.connect() as conn:
            counts["document"] = conn.execute(text("SELECT COUNT(*) FROM document")).scalar_one()
    facility_code = catalogue.facilities[0][0]
    with engine.begin() as conn:  # a demo database: `onshi serve` makes fresh demo keys on each start
        put_setting(conn, "demo_facility", facility_code)
    facility_key, insurer_key = demo_keys(engine, facility_code, DEMO_INSURER)
    return SeedSummary(
        people=counts["person"], qualifications=counts["qualification"], cards=counts["card"], documents=counts["document"],
        insurers=len(catalogue.insurers), facilities=len(catalogue.facilities), seconds=round(time.perf_counter() - began, 2),
        demo_facility_code=facility_code, demo_facility_key=facility_key, demo_insurer_number=DEMO_INSURER, demo_insurer_key=insurer_key,
    )


SAMPLE_WINDOW = 16  # consecutive ids looked at per stratum and try
SAMPLE_TRIES = 8
SAMPLE_BATCH = 2000  # ids per query


def sample_people(engine: Engine, k: int, seed: int = 1, today: Date | None = None) -> list[dict]:
    """k seeded people spread over the population (one per id stratum) who on `today` hold
    a valid, registered qualification and a usable insurance-registered card (R-B1–B4,
    F.1), with a facility to ask from (keys: registry.keys.attach_keys).

    Returns fewer than k only when the registry holds fewer such people in reach.
    """
    today = today or config.today()
    if k <= 0:
        return []
    rng = random.Random(f"onshi-sample:{seed}:{k}:{today.isoformat()}")
    p, q, c, f = schema.person, schema.qualification, schema.card, schema.facility
    ids = bindparam("ids", expanding=True)
    person_q = select(p.c.id, p.c.birth_date, p.c.sex).where(p.c.id.in_(ids))
    qual_q = select(q.c.id, q.c.person_id, q.c.insurer_number, q.c.symbol, q.c.number, q.c.branch, q.c.relation, q.c.start,
                    q.c.end, q.c.registered, q.c.name, q.c.kana, q.c.address).where(q.c.person_id.in_(ids))
    card_q = select(c.c.serial, c.c.person_id, c.c.issued, c.c.card_expires, c.c.cert_expires, c.c.insurance_registered,
                    c.c.revoked).where(c.c.person_id.in_(ids))
    with engine.connect() as conn:
        lo, hi = conn.execute(text("SELECT MIN(id), MAX(id) FROM person")).one()
        online = conn.execute(select(f.c.code, f.c.prefecture).where(f.c.online.is_(True)).order_by(f.c.code)).all()
        if lo is None or not online:
            return []
        by_pref: dict[int, list[str]] = defaultdict(list)
        for code, pref in online:
            by_pref[pref].append(code)

        def eligible(batch: list[int]) -> dict[int, dict]:
            found: dict[int, dict] = {}
            for i in range(0, len(batch), SAMPLE_BATCH):
                part = batch[i:i + SAMPLE_BATCH]
                quals: dict[int, list] = defaultdict(list)
                for row in conn.execute(qual_q, {"ids": part}):
                    if row.registered is not None and row.registered <= today and row.start <= today and (row.end is None or row.end >= today):
                        quals[row.person_id].append(row)
                cards: dict[int, object] = {}
                for row in conn.execute(card_q, {"ids": part}):
                    if row.person_id in quals and row.issued <= today and (row.revoked is None or row.revoked > today) and card_status(
                        today, card_expires=row.card_expires, cert_expires=row.cert_expires, insurance_registered=row.insurance_registered
                    ).usable:
                        cards[row.person_id] = row
                for row in conn.execute(person_q, {"ids": [pid for pid in part if pid in cards]}):
                    found[row.id] = {"person": row, "qualification": max(quals[row.id], key=lambda r: r.start), "card": cards[row.id]}
            return found

        strata = [(lo + (hi - lo + 1) * s // k, lo + (hi - lo + 1) * (s + 1) // k - 1) for s in range(k)]
        chosen: dict[int, dict] = {}
        spare: dict[int, dict] = {}
        pending = [s for s in range(k) if strata[s][0] <= strata[s][1]]
        for _ in range(SAMPLE_TRIES):
            if not pending:
                break
            windows = {}
            for s in pending:
                a, b = strata[s]
                start = a + rng.randrange(max(1, b - a + 2 - SAMPLE_WINDOW))
                window = list(range(start, min(b, start + SAMPLE_WINDOW - 1) + 1))
                rng.shuffle(window)
                windows[s] = window
            found = eligible(sorted({pid for w in windows.values() for pid in w}))
            for s, window in windows.items():
                hits = [pid for pid in window if pid in found]
                if hits:
                    chosen[s] = found[hits[0]]
                spare.update((pid, found[pid]) for pid in hits[1:])
            pending = [s for s in pending if s not in chosen]
        picked = [chosen[s] for s in sorted(chosen)]
        used = {r["person"].id for r in picked}
        picked += [spare[pid] for pid in sorted(spare) if pid not in used][: k - len(picked)]
    out = []
    for r in picked:
        person, qual, card = r["person"], r["qualification"], r["card"]
        pref = next((i for i, name in enumerate(PREFECTURES, start=1) if (qual.address or "").startswith(name)), None)
        codes = by_pref.get(pref) or [code for code, _ in online]
        facility_code = codes[rng.randrange(len(codes))]
        out.append({
            "person_id": person.id,
            "name": qual.name,
            "kana": qual.kana,
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "card_serial": card.serial,
            "qualification_id": qual.id,
            "insurer_number": qual.insurer_number,
            "symbol": qual.symbol,
            "number": qual.number,
            "branch": qual.branch,
            "relation": qual.relation,
            "facility_code": facility_code,
        })
    return out
