"""Policy targets and indicator vocabulary for the reports.

Thresholds and CV limits are NOT here: they are read from the marts (`threshold`, `cv_limit`),
because provinces publish stricter local numbers. Only the policy targets quoted in provincial
plans live here, as the spec indicators.md ("Coverage, broadband and teacher ratios")
lists them.
"""

from __future__ import annotations

from decimal import Decimal

# indicators.md: "multimedia classrooms in 100 % of classes; 100 % internet access;
# ≥ 100 Mbps per school (2019 national 联网攻坚 target); 10 Mbps+ for ≥ 80 % of schools".
TARGET_MULTIMEDIA_COVERAGE = Decimal("1")
TARGET_CONNECTED_SHARE = Decimal("1")
TARGET_SHARE_100MBPS = Decimal("1")
TARGET_SHARE_10MBPS = Decimal("0.8")

SECTIONS: tuple[str, ...] = ("primary", "junior")
SECTION_LABELS: dict[str, str] = {"primary": "小学", "junior": "初中"}

# The seven 优质均衡 (method 2017) indicators in the order of indicators.md.
INDICATORS_2017: tuple[str, ...] = (
    "qualified_teachers_per_100",
    "backbone_teachers_per_100",
    "pe_arts_teachers_per_100",
    "teaching_area_per_student",
    "sports_area_per_student",
    "equipment_value_per_student",
    "multimedia_rooms_per_100",
)

INDICATOR_LABELS: dict[str, str] = {
    "qualified_teachers_per_100": "每百名学生拥有高于规定学历教师数",
    "backbone_teachers_per_100": "每百名学生拥有县级以上骨干教师数",
    "pe_arts_teachers_per_100": "每百名学生拥有体育、艺术专任教师数",
    "teaching_area_per_student": "生均教学及辅助用房面积",
    "sports_area_per_student": "生均体育运动场馆面积",
    "equipment_value_per_student": "生均教学仪器设备值",
    "multimedia_rooms_per_100": "每百名学生拥有网络多媒体教室数",
    # method 2012 (基本均衡)
    "computers_per_100": "每百名学生拥有教学用计算机台数",
    "books_per_student": "生均图书册数",
    "teachers_per_100": "每百名学生拥有专任教师数",
    "senior_title_teachers_per_100": "每百名学生拥有中级及以上职称教师数",
    "composite": "综合差异系数",
}

# Short headers for the CV grid, where the full names do not fit a column.
INDICATOR_SHORT: dict[str, str] = {
    "qualified_teachers_per_100": "高学历教师",
    "backbone_teachers_per_100": "骨干教师",
    "pe_arts_teachers_per_100": "体艺教师",
    "teaching_area_per_student": "教学用房",
    "sports_area_per_student": "体育场馆",
    "equipment_value_per_student": "仪器设备",
    "multimedia_rooms_per_100": "多媒体教室",
    "composite": "综合(2012)",
}

# Unit of a value and of a shortfall (school_resource_gaps.shortfall is "in the indicator's
# own unit: teachers, ㎡, 元, rooms, for that section to reach the threshold").
INDICATOR_VALUE_UNITS: dict[str, str] = {
    "qualified_teachers_per_100": "人/百生",
    "backbone_teachers_per_100": "人/百生",
    "pe_arts_teachers_per_100": "人/百生",
    "teaching_area_per_student": "㎡/生",
    "sports_area_per_student": "㎡/生",
    "equipment_value_per_student": "元/生",
    "multimedia_rooms_per_100": "间/百生",
}
SHORTFALL_UNITS: dict[str, str] = {
    "qualified_teachers_per_100": "名教师",
    "backbone_teachers_per_100": "名教师",
    "pe_arts_teachers_per_100": "名教师",
    "teaching_area_per_student": "㎡",
    "sports_area_per_student": "㎡",
    "equipment_value_per_student": "元",
    "multimedia_rooms_per_100": "间",
}

STATUS_LABELS: dict[str, str] = {
    "accepted": "已接收",
    "rejected": "已拒收",
    "missing": "未报送",
}

REGION_LEVEL_LABELS: dict[str, str] = {
    "county": "县级",
    "prefecture": "地级",
    "province": "省级",
}
