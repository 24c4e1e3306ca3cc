"""Chinese place and school names as counties write them (东关小学, 王家庄村教学点, 城关第二中学).

Names are drawn from the county's random stream and kept unique within the county. No pool
character is 注 and no name starts with 合计/填表说明, so a school row never reads as a footer.
"""

from __future__ import annotations

import random
import re

_ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|"
    "东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|"
    "乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各"
)
_AUTONOMOUS = re.compile(rf"(?:(?:{_ETHNIC})族)+自治[县旗]$")
_SUFFIX = re.compile(r"(?:行政区|林区|特区|新区|自治县|自治旗|县|区|市|旗)$")

_FIRST = (
    "东西南北新红青黄白金石马杨柳沙湖泉山平安和永长清大上下高龙凤兴福寿康宁丰阳桥林松柏桃杏花草田双古"
)
_SECOND = "沟庄村滩湾台河堡寨营坪岭峰口坝洼坡塘岗店集屯铺川源园泉门头湖"
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯董"
_ROADS = (
    "人民", "解放", "建设", "胜利", "文化", "团结", "和平", "新华", "光明", "长江", "黄河",
    "中山", "友谊", "幸福", "育才", "东风", "红旗", "朝阳", "滨河", "昆仑", "青年", "民主",
)
_DIGITS = "零一二三四五六七八九"


def short_name(county_name: str) -> str:
    """大通回族土族自治县 -> 大通, 城东区 -> 城东, 大柴旦行政区 -> 大柴旦."""
    name = _AUTONOMOUS.sub("", county_name)
    if name == county_name:
        name = _SUFFIX.sub("", county_name)
    return name if len(name) >= 2 else county_name


def _chinese_number(n: int) -> str:
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if not rest:
        return _DIGITS[hundreds] + "百"
    # 一百零五, 一百一十二
    tail = _DIGITS[rest] if rest < 10 else ("一" if rest < 20 else "") + _chinese_number(rest)
    return _DIGITS[hundreds] + "百" + ("零" if rest < 10 else "") + tail


def ordinal(n: int) -> str:
    """1 -> 第一, 12 -> 第十二, 20 -> 第二十, 105 -> 第一百零五 (n < 1000)."""
    return "第" + _chinese_number(n)


class NameBook:
    """Unique school names for one county; townships and villages drawn as needed."""

    def __init__(self, county_name: str, rng: random.Random) -> None:
        self.rng = rng
        self.autonomous = "自治" in county_name
        short = short_name(county_name)
        # Half the counties name schools 大通县第一小学, the other half 大通第一小学.
        special = county_name.endswith(("行政区", "林区", "新区", "特区"))
        unit = county_name[-1] if county_name[-1] in "县区市旗" and not special else ""
        self.county = short + unit if unit and rng.random() < 0.5 else short
        self.used: set[str] = set()
        self.places: set[str] = set()
        self.counters: dict[str, int] = {}
        self.townships: list[str] = []

    def _place(self) -> str:
        for _ in range(50):
            if self.rng.random() < 0.25:
                place = self.rng.choice(_SURNAMES) + "家" + self.rng.choice(_SECOND)
            else:
                place = self.rng.choice(_FIRST) + self.rng.choice(_SECOND)
            if place not in self.places:
                self.places.add(place)
                return place
        return self.rng.choice(_FIRST) + self.rng.choice(_FIRST) + self.rng.choice(_SECOND)

    def township(self, town: bool = False) -> str:
        # About one township per ~6 schools, reused so that names cluster like real ones;
        # towns (镇区) are 镇, the countryside mostly 乡.
        pool = [t for t in self.townships if t.endswith("镇")] if town else self.townships
        if not pool or (len(self.townships) < 40 and self.rng.random() < 0.2):
            pool = [self._place() + ("镇" if town else self.rng.choice("镇乡乡"))]
            self.townships.append(pool[0])
        return self.rng.choice(pool)

    def _next(self, series: str) -> int:
        self.counters[series] = self.counters.get(series, 0) + 1
        return self.counters[series]

    def school(self, school_type: str, area: str) -> str:
        """A new name, unique in the county (redrawn on collision, as counties rename)."""
        for _ in range(30):
            name = self._draw(school_type, area)
            if name not in self.used:
                self.used.add(name)
                return name
        n = 2
        while f"{name}{ordinal(n)[1:]}部" in self.used:
            n += 1
        self.used.add(f"{name}{ordinal(n)[1:]}部")
        return f"{name}{ordinal(n)[1:]}部"

    def _draw(self, school_type: str, area: str) -> str:
        rng, county = self.rng, self.county
        city = area in ("111", "112")
        town = area in ("121", "122", "123")
        if school_type == "218":
            return f"{self.township()}{self._place()}村教学点"
        if school_type == "211":
            if city:
                pick = rng.random()
                if pick < 0.45 and self.counters.get("小学", 0) < 30:
                    return f"{county}{ordinal(self._next('小学'))}小学"
                if pick < 0.55 and "实验小学" not in self.counters:
                    self.counters["实验小学"] = 1
                    return f"{county}实验小学"
                if pick < 0.75:
                    return f"{county}{rng.choice(_ROADS)}路小学"
                return f"{county}{self._place()}小学"
            if town:
                tsp = self.township(town=True)
                if rng.random() < 0.4:
                    return f"{county}{tsp}中心小学"
                return f"{tsp}{self._place()}小学"
            if area == "210" and rng.random() < 0.5:
                kind = rng.choice(("中心小学", "寄宿制小学", "中心学校"))
                return f"{county}{self.township()}{kind}"
            return f"{self.township()}{self._place()}村小学"
        if school_type == "311":
            if city or (town and rng.random() < 0.5):
                if self.autonomous and "民族中学" not in self.counters:
                    self.counters["民族中学"] = 1
                    return f"{county}民族中学"
                return f"{county}{ordinal(self._next('中学'))}中学"
            return f"{county}{self.township(town)}{rng.choice(('中学', '初级中学'))}"
        if school_type == "312":
            if city:
                return f"{county}{rng.choice(_ROADS)}学校"
            return f"{county}{self.township(town)}{rng.choice(('九年一贯制学校', '学校'))}"
        if school_type == "341":
            if rng.random() < 0.7:
                return f"{county}{ordinal(self._next('中学'))}中学"
            return f"{county}{rng.choice(('民族', '实验', '育才', '城关'))}中学"
        # 345 十二年一贯制学校
        return f"{county}{rng.choice(('实验', '民族', '外国语', '育才'))}学校"
