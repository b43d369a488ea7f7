"""The reference data and the catalogue of the seeded population (registry/seed.py,
registry/seedgen.py): prefectures, municipalities, names, the age pyramid, insurance by age, the
renewal waves of the My Number certificates (seed 002), the transition dates of A6/T3; and the
insurers, municipalities and facilities scaled to the population (`Catalogue`)."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from itertools import accumulate

from ..domain.numbers import PREFECTURES, with_check_digit

Date = dt.date


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
