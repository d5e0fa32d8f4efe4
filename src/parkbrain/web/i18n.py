"""The console's labels in Chinese (default) and English, declared as data.

Pages render them server-side and hand the same table to their scripts (``<script type="application/json">``),
so every label, chart axis and legend follows one language choice: ``?lang=`` first, then the ``lang``
cookie, then Chinese.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "lang"

#: key: (中文, English)
STRINGS: dict[str, tuple[str, str]] = {
    # the frame
    "product": ("园区大脑", "ParkBrain"),
    "nav_map": ("一张图", "Map"),
    "nav_alerts": ("告警", "Alerts"),
    "nav_data": ("数据", "Data"),
    "nav_screen": ("大屏", "Big screen"),
    "sign_out": ("退出", "Sign out"),
    "lang_switch": ("EN", "中文"),
    "loading": ("加载中…", "Loading…"),
    "load_failed": ("加载失败", "Failed to load"),
    "no_data": ("暂无数据", "No data"),
    "none": ("无", "none"),
    "back_province": ("返回全省", "Back to province"),
    "period": ("统计期", "Period"),
    "role_province_admin": ("省级管理员", "Province admin"),
    "role_park_admin": ("园区管理员", "Park admin"),
    "role_park_operator": ("园区运维", "Park operator"),
    "role_enterprise": ("企业用户", "Enterprise"),
    "role_integrator": ("集成商", "Integrator"),
    # province view
    "title_province": ("广西园区一张图", "Guangxi parks map"),
    "title_screen": ("广西产业园区运行监测大屏", "Guangxi industrial parks control room"),
    "layer": ("图层", "Layer"),
    "layer_energy": ("能耗", "Energy"),
    "layer_carbon": ("碳排放", "Carbon"),
    "layer_aqi": ("空气质量", "Air quality"),
    "kpi_parks": ("园区", "Parks"),
    "kpi_enterprises": ("企业", "Enterprises"),
    "kpi_energy": ("综合能耗", "Energy use"),
    "kpi_carbon": ("碳排放", "Carbon"),
    "kpi_alerts": ("未处理告警", "Open alerts"),
    "kpi_aqi": ("空气质量指数", "AQI"),
    "ranking": ("园区排名", "Park ranking"),
    "legend": ("图例", "Legend"),
    "legend_marker": (
        "圆点大小：能耗；颜色：最严重的未处理告警",
        "Dot size: energy; colour: worst open alert",
    ),
    "prefecture": ("地级市", "Prefecture"),
    "park": ("园区", "Park"),
    "open_park": ("查看园区", "Open park"),
    # units
    "unit_tce": ("吨标准煤", "tce"),
    "unit_tco2": ("吨CO₂", "tCO₂"),
    "unit_kwh": ("千瓦时", "kWh"),
    "unit_kw": ("千瓦", "kW"),
    "unit_aqi": ("AQI", "AQI"),
    # severities and statuses
    "sev_critical": ("严重", "Critical"),
    "sev_warning": ("警告", "Warning"),
    "sev_info": ("提示", "Info"),
    "sev_none": ("无告警", "No alert"),
    "status_open": ("未处理", "Open"),
    "status_acknowledged": ("已确认", "Acknowledged"),
    "status_closed": ("已关闭", "Closed"),
    # park view
    "title_park": ("园区", "Park"),
    "park_map": ("园区地图", "Park map"),
    "boundary": ("园区边界", "Boundary"),
    "buildings": ("建筑", "Buildings"),
    "enterprises": ("企业", "Enterprises"),
    "enterprise": ("企业", "Enterprise"),
    "industry": ("行业", "Industry"),
    "energy_kwh": ("用电量 (千瓦时)", "Electricity (kWh)"),
    "energy_tce": ("综合能耗 (吨标准煤)", "Energy (tce)"),
    "carbon_tco2": ("碳排放 (吨CO₂)", "Carbon (tCO₂)"),
    "open_alerts": ("未处理告警", "Open alerts"),
    "load_curve": ("园区负荷曲线", "Park load curve"),
    "today": ("今天", "Today"),
    "yesterday": ("昨天", "Yesterday"),
    "last_week": ("上周同日", "Same day last week"),
    "power_kw": ("有功功率 (千瓦)", "Active power (kW)"),
    "air_now": ("实时空气质量", "Air quality now"),
    "air_days": ("近7日空气质量指数", "AQI, last 7 days"),
    "primary_pollutant": ("首要污染物", "Primary pollutant"),
    "level": ("级别", "Level"),
    "alerts": ("告警", "Alerts"),
    "floors": ("层数", "Floors"),
    "area_m2": ("面积 (平方米)", "Area (m²)"),
    "kind": ("类型", "Kind"),
    "approved_area": ("核准面积 (公顷)", "Approved area (ha)"),
    "leading_industries": ("主导产业", "Leading industries"),
    # enterprise view
    "meters": ("计量表与测点", "Meters and points"),
    "device": ("设备", "Device"),
    "point": ("测点", "Point"),
    "quantity": ("物理量", "Quantity"),
    "unit": ("单位", "Unit"),
    "latest": ("最新值", "Latest"),
    "latest_ts": ("最新时间", "Latest time"),
    "carrier": ("能源品种", "Energy carrier"),
    "consumption": ("本月分品种能耗", "Consumption by carrier, this month"),
    "monthly": ("近12个月能耗与碳排放", "Energy and carbon, last 12 months"),
    "trend": ("趋势", "Trend"),
    "trend_point": ("选择测点", "Point"),
    "range": ("时间范围", "Range"),
    "range_1d": ("1天", "1 day"),
    "range_7d": ("7天", "7 days"),
    "range_30d": ("30天", "30 days"),
    "range_90d": ("90天", "90 days"),
    "carbon": ("碳排放", "Carbon"),
    "factor": ("排放因子", "Emission factor"),
    "intensity": ("单位产值能耗 (吨标准煤/万元)", "Energy intensity (tce per 10k CNY)"),
    "uscc": ("统一社会信用代码", "Credit code (USCC)"),
    "employees": ("员工人数", "Employees"),
    "output_value": ("年产值 (万元)", "Annual output (10k CNY)"),
    "key_energy_user": ("重点用能单位", "Key energy user"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # carriers
    "carrier_electricity": ("电力", "Electricity"),
    "carrier_natural_gas": ("天然气", "Natural gas"),
    "carrier_steam": ("蒸汽", "Steam"),
    "carrier_water": ("水", "Water"),
    "carrier_diesel": ("柴油", "Diesel"),
    "carrier_coal": ("煤", "Coal"),
    # quantities (points.quantity)
    "q_electric_energy": ("电能", "Electric energy"),
    "q_active_power": ("有功功率", "Active power"),
    "q_water_volume": ("用水量", "Water volume"),
    "q_steam_mass": ("蒸汽量", "Steam mass"),
    "q_natural_gas_volume": ("天然气量", "Natural gas volume"),
    "q_current": ("电流", "Current"),
    "q_voltage": ("电压", "Voltage"),
    "q_vibration_rms": ("振动速度", "Vibration (RMS)"),
    "q_bearing_temperature": ("轴承温度", "Bearing temperature"),
    "q_motor_temperature": ("电机温度", "Motor temperature"),
    "q_fluid_temperature": ("介质温度", "Fluid temperature"),
    "q_pressure": ("压力", "Pressure"),
    "q_flow_rate": ("流量", "Flow rate"),
    "q_pm2_5": ("PM2.5", "PM2.5"),
    "q_pm10": ("PM10", "PM10"),
    "q_so2": ("二氧化硫", "SO₂"),
    "q_no2": ("二氧化氮", "NO₂"),
    "q_o3": ("臭氧", "O₃"),
    "q_co": ("一氧化碳", "CO"),
    # alerts view
    "title_alerts": ("告警中心", "Alerts"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "All"),
    "status": ("状态", "Status"),
    "severity": ("级别", "Severity"),
    "time": ("时间", "Time"),
    "rule": ("规则", "Rule"),
    "message": ("内容", "Message"),
    "actions": ("操作", "Actions"),
    "acknowledge": ("确认", "Acknowledge"),
    "close": ("关闭", "Close"),
    "done": ("已完成", "Done"),
    "total": ("共", "Total"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "action_failed": ("操作失败", "Action failed"),
    # data view
    "title_data": ("数据空间", "Data space"),
    "browse": ("浏览数据表", "Browse tables"),
    "table": ("数据表", "Table"),
    "table_enterprises": ("企业", "Enterprises"),
    "table_buildings": ("建筑", "Buildings"),
    "table_devices": ("设备", "Devices"),
    "table_points": ("测点", "Points"),
    "import": ("导入文件", "Import a file"),
    "import_as": ("导入为（可留空自动识别）", "As table (blank: detect)"),
    "upload": ("上传", "Upload"),
    "imported": ("已导入", "Imported"),
    "imports": ("导入记录", "Imports"),
    "file": ("文件", "File"),
    "rows": ("行数", "Rows"),
    "who": ("操作人", "By"),
    "quality": ("数据质量报告", "Data-quality report"),
    "score": ("得分", "Score"),
    "dimension": ("维度", "Dimension"),
}


def normalise(lang: str | None) -> str | None:
    """``zh``/``en`` (also ``zh-CN``, ``EN``), or None for anything else."""
    if not lang:
        return None
    short = lang.strip().lower()[:2]
    return short if short in LANGUAGES else None


def strings(lang: str) -> dict[str, str]:
    """Every label in ``lang`` (``zh`` or ``en``)."""
    index = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    return {key: pair[index] for key, pair in STRINGS.items()}
