"""The status page's fixed wording in the languages our message templates ship (en, zh, vi).

A plain table rather than gettext: the public site is rendered by a background task for all
languages at once, and a missing key must fail a test, not fall back silently. Public texts
written by staff (titles, summaries, causes, updates) are shown as written.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

LANGUAGES = ("en", "zh", "vi")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "vi": "Tiếng Việt"}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "site_title": "{operator} service status",
        "skip": "Skip to content",
        "language_nav": "Language",
        "list_sep": ", ",
        "all_ok": "All services are operating normally.",
        "one_open": "1 current outage",
        "n_open": "{n} current outages",
        "current_outages": "Current outages",
        "recently_resolved": "Recently resolved",
        "areas": "Areas",
        "services": "Services affected",
        "about_services": "about {n} services",
        "cause": "Cause",
        "cause_unknown": "We are still finding the cause.",
        "started": "Started",
        "etr": "Estimated restoration",
        "etr_unknown": "Not yet known",
        "next_update": "Next update by",
        "restored": "Restored",
        "resolved": "Resolved",
        "status": "Status",
        "latest_update": "Latest update",
        "updates": "Updates",
        "details": "Details and all updates for {ref}",
        "still_affected": "still affected",
        "area_restored": "restored",
        "more_areas": "and {n} more",
        "whole_state": "all of {state}",
        "lookup_title": "Check your postcode",
        "lookup_label": "Postcode",
        "lookup_hint": "4 digits, for example 2000",
        "lookup_button": "Check",
        "lookup_none": "No known outages in {postcode}.",
        "lookup_found": "Outages in {postcode}",
        "lookup_places": "Places: {places}",
        "lookup_bad": "Enter a postcode of 4 digits, for example 2000.",
        "lookup_here_still": "Still affected here",
        "lookup_here_restored": "Restored here",
        "history": "Past outages",
        "history_page": "Past outages, page {n} of {m}",
        "history_none": "No outages in the last two years.",
        "newer": "Newer",
        "older": "Older",
        "duration": "Duration",
        "feed": "Atom feed",
        "register": "Outage register",
        "api": "JSON (Statuspage API v2)",
        "page_updated": "Page updated {time}.",
        "help": "Need help? Call {help_line}.",
        "home": "Service status",
        "not_found": "Page not found",
        "not_found_text": "There is no page at this address.",
        "not_published": "The status page is being prepared. Please try again in a minute.",
        "status_investigating": "Investigating",
        "status_identified": "Cause identified",
        "status_restoring": "Restoring",
        "status_monitoring": "Monitoring",
        "status_resolved": "Resolved",
        "status_closed": "Resolved",
        "kind_mobile": "Mobile",
        "kind_fixed_broadband": "Home internet",
        "kind_voice": "Home phone",
        "kind_tv": "TV",
        "kind_electricity": "Electricity",
        "kind_saas": "Online services",
        "hours": "{h} h {m} min",
    },
    "zh": {
        "site_title": "{operator} 服务状态",
        "skip": "跳到正文",
        "language_nav": "语言",
        "list_sep": "、",
        "all_ok": "所有服务运行正常。",
        "one_open": "当前有 1 项服务中断",
        "n_open": "当前有 {n} 项服务中断",
        "current_outages": "当前服务中断",
        "recently_resolved": "最近已解决",
        "areas": "受影响地区",
        "services": "受影响服务",
        "about_services": "约 {n} 项服务",
        "cause": "原因",
        "cause_unknown": "我们仍在查找原因。",
        "started": "开始时间",
        "etr": "预计恢复时间",
        "etr_unknown": "暂未确定",
        "next_update": "下次更新时间",
        "restored": "恢复时间",
        "resolved": "解决时间",
        "status": "状态",
        "latest_update": "最新进展",
        "updates": "进展记录",
        "details": "{ref} 的详情和全部进展",
        "still_affected": "仍受影响",
        "area_restored": "已恢复",
        "more_areas": "及另外 {n} 处",
        "whole_state": "{state} 全州",
        "lookup_title": "查询您的邮编",
        "lookup_label": "邮编",
        "lookup_hint": "4 位数字，例如 2000",
        "lookup_button": "查询",
        "lookup_none": "{postcode} 没有已知的服务中断。",
        "lookup_found": "{postcode} 的服务中断",
        "lookup_places": "地区：{places}",
        "lookup_bad": "请输入 4 位数字的邮编，例如 2000。",
        "lookup_here_still": "本地区仍受影响",
        "lookup_here_restored": "本地区已恢复",
        "history": "过往服务中断",
        "history_page": "过往服务中断，第 {n} 页，共 {m} 页",
        "history_none": "过去两年没有服务中断。",
        "newer": "较新",
        "older": "较早",
        "duration": "持续时间",
        "feed": "Atom 订阅",
        "register": "服务中断登记册",
        "api": "JSON（Statuspage API v2）",
        "page_updated": "本页更新于 {time}。",
        "help": "需要帮助？请致电 {help_line}。",
        "home": "服务状态",
        "not_found": "找不到页面",
        "not_found_text": "此地址没有页面。",
        "not_published": "状态页面正在准备中，请一分钟后再试。",
        "status_investigating": "调查中",
        "status_identified": "已查明原因",
        "status_restoring": "正在恢复",
        "status_monitoring": "监测中",
        "status_resolved": "已解决",
        "status_closed": "已解决",
        "kind_mobile": "手机",
        "kind_fixed_broadband": "家庭宽带",
        "kind_voice": "家庭电话",
        "kind_tv": "电视",
        "kind_electricity": "电力",
        "kind_saas": "在线服务",
        "hours": "{h} 小时 {m} 分钟",
    },
    "vi": {
        "site_title": "Tình trạng dịch vụ {operator}",
        "skip": "Đến nội dung chính",
        "language_nav": "Ngôn ngữ",
        "list_sep": ", ",
        "all_ok": "Tất cả dịch vụ đang hoạt động bình thường.",
        "one_open": "Hiện có 1 sự cố",
        "n_open": "Hiện có {n} sự cố",
        "current_outages": "Sự cố hiện tại",
        "recently_resolved": "Mới khắc phục",
        "areas": "Khu vực",
        "services": "Dịch vụ bị ảnh hưởng",
        "about_services": "khoảng {n} dịch vụ",
        "cause": "Nguyên nhân",
        "cause_unknown": "Chúng tôi vẫn đang tìm nguyên nhân.",
        "started": "Bắt đầu",
        "etr": "Dự kiến khôi phục",
        "etr_unknown": "Chưa xác định",
        "next_update": "Cập nhật tiếp theo trước",
        "restored": "Đã khôi phục",
        "resolved": "Đã khắc phục",
        "status": "Trạng thái",
        "latest_update": "Cập nhật mới nhất",
        "updates": "Các cập nhật",
        "details": "Chi tiết và mọi cập nhật của {ref}",
        "still_affected": "vẫn bị ảnh hưởng",
        "area_restored": "đã khôi phục",
        "more_areas": "và {n} nơi khác",
        "whole_state": "toàn bang {state}",
        "lookup_title": "Kiểm tra mã bưu điện",
        "lookup_label": "Mã bưu điện",
        "lookup_hint": "4 chữ số, ví dụ 2000",
        "lookup_button": "Kiểm tra",
        "lookup_none": "Không có sự cố nào được biết ở {postcode}.",
        "lookup_found": "Sự cố ở {postcode}",
        "lookup_places": "Nơi: {places}",
        "lookup_bad": "Hãy nhập mã bưu điện gồm 4 chữ số, ví dụ 2000.",
        "lookup_here_still": "Nơi này vẫn bị ảnh hưởng",
        "lookup_here_restored": "Nơi này đã khôi phục",
        "history": "Sự cố trước đây",
        "history_page": "Sự cố trước đây, trang {n} trên {m}",
        "history_none": "Không có sự cố nào trong hai năm qua.",
        "newer": "Mới hơn",
        "older": "Cũ hơn",
        "duration": "Thời gian",
        "feed": "Nguồn tin Atom",
        "register": "Sổ đăng ký sự cố",
        "api": "JSON (Statuspage API v2)",
        "page_updated": "Trang cập nhật lúc {time}.",
        "help": "Cần giúp đỡ? Gọi {help_line}.",
        "home": "Tình trạng dịch vụ",
        "not_found": "Không tìm thấy trang",
        "not_found_text": "Không có trang nào ở địa chỉ này.",
        "not_published": "Trang tình trạng đang được chuẩn bị. Vui lòng thử lại sau một phút.",
        "status_investigating": "Đang điều tra",
        "status_identified": "Đã xác định nguyên nhân",
        "status_restoring": "Đang khôi phục",
        "status_monitoring": "Đang theo dõi",
        "status_resolved": "Đã khắc phục",
        "status_closed": "Đã khắc phục",
        "kind_mobile": "Di động",
        "kind_fixed_broadband": "Internet tại nhà",
        "kind_voice": "Điện thoại bàn",
        "kind_tv": "Truyền hình",
        "kind_electricity": "Điện",
        "kind_saas": "Dịch vụ trực tuyến",
        "hours": "{h} giờ {m} phút",
    },
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def language_or_default(value: str | None) -> str:
    """The language to answer in for a ``lang`` parameter; anything unknown is English."""
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


class Strings:
    """One language's table, used from templates as ``t.key`` or ``t("key", n=3)``."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.table = STRINGS[language]

    def __getattr__(self, key: str) -> str:
        try:
            return self.table[key]
        except KeyError:
            raise AttributeError(f"no status page string {key!r} in {self.language}") from None

    def __call__(self, key: str, **values: object) -> str:
        return self.table[key].format(**values)

    def when(self, value: datetime | None) -> str:
        """A time people read at a glance, in the site's zone with its abbreviation."""
        if value is None:
            return ""
        local = timezone.localtime(value)
        zone = local.strftime("%Z")
        if self.language == "zh":
            return f"{local.month}月{local.day}日 {local:%H:%M} ({zone})"
        if self.language == "vi":
            return f"{local:%H:%M} ngày {local.day}/{local.month}/{local.year} ({zone})"
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year} {local:%H:%M} {zone}"

    def duration(self, seconds: float) -> str:
        minutes = max(0, int(seconds // 60))
        return self("hours", h=minutes // 60, m=minutes % 60)

    def open_count(self, count: int) -> str:
        return self.one_open if count == 1 else self("n_open", n=count)
