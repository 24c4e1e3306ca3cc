"""County names and county lists read from the divisions seed (no warehouse needed).

Protects: alerts and status naming a county from its code, Qinghai's 45 county units, the
prefecture-level cities without counties counted as county units. Expected figures were
counted from the CSV with awk, independently of the code. (Which counties owe which year is
the warehouse's rule: tests/test_alerts_status.py.)
"""

from __future__ import annotations

from edustat.divisions import (
    all_county_units,
    county_name,
    division,
    province_counties,
)


def test_county_names() -> None:
    assert county_name("630103") == "城中区"
    assert county_name(630121) == "大通回族土族自治县"
    assert county_name(" 441900 ") == "东莞市"
    assert county_name("630107") == ""  # no such division
    assert county_name(None) == ""
    d = division("632857")
    assert d is not None
    assert (d.prefecture_name, d.province_name, d.is_county_unit) == (
        "海西蒙古族藏族自治州", "青海省", True,
    )


def test_county_lists() -> None:
    qinghai = province_counties("63")
    assert len(qinghai) == 45
    assert qinghai == province_counties("630000") == sorted(qinghai)
    assert qinghai[0] == "630102" and "632857" in qinghai
    everything = all_county_units()
    assert len(everything) == 2855  # 2849 counties + 6 prefecture cities without counties
    assert "441900" in everything and "630100" not in everything

