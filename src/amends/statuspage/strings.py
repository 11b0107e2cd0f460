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
        "lookup_title": "Check your area",
        "lookup_label": "Postcode",
        "lookup_hint": "4 digits, for example 2000",
        "lookup_button": "Check",
        "lookup_none": "No known outages in {area}.",
        "lookup_found": "Outages in {area}",
        "lookup_places": "Places: {places}",
        "lookup_postcodes": "Postcodes: {places}",
        "lookup_place_label": "Or suburb or town",
        "lookup_place_hint": "For example Parramatta",
        "lookup_state_label": "State",
        "lookup_any_state": "Any",
        "lookup_empty": "Enter a postcode of 4 digits, or a suburb or town.",
        "lookup_bad_place": (
            "Enter the name of a suburb or town in letters, at most 60 characters, for example "
            "Parramatta."
        ),
        "lookup_similar": "Places with a similar name and a current or recent outage",
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
        "subscribe_link": "Get outage updates by email or text",
        "subscribe_title": "Get outage updates",
        "subscribe_intro": (
            "We will tell you when an outage reaches the place or service you choose, and each "
            "time we update it. First we send one message to check the address is yours; nothing "
            "else is sent until you confirm."
        ),
        "sub_how": "How should we tell you?",
        "sub_email": "Email",
        "sub_sms": "Text message",
        "sub_webhook": "Webhook (for developers)",
        "sub_email_label": "Email address",
        "sub_phone_label": "Mobile number",
        "sub_phone_hint": "For example 0412 345 678",
        "sub_webhook_label": "Webhook URL",
        "sub_webhook_hint": "An https:// address we will POST JSON to",
        "sub_what": "What about?",
        "sub_postcode": "A postcode",
        "sub_state": "A state or territory",
        "sub_product": "A service",
        "sub_choose": "Choose one",
        "sub_language": "Language of our messages",
        "sub_button": "Subscribe",
        "sub_errors": "Please correct the fields marked below.",
        "sub_sent_title": "Check your messages",
        "sub_sent_text": (
            "If this address can receive our messages, we have sent it a confirmation. Nothing "
            "else is sent until you confirm. The link and the code work for 7 days."
        ),
        "sub_code_title": "Got a code by text message?",
        "sub_code_label": "6-digit code",
        "sub_confirm_button": "Confirm",
        "sub_confirm_title": "Confirm your subscription",
        "sub_confirm_text": "Confirm that {address} should get messages about {topic}.",
        "sub_confirmed_title": "You are subscribed",
        "sub_confirmed": (
            "{address} will get messages about {topic}. Every message has a link to unsubscribe."
        ),
        "sub_bad_link": "This link has expired or was already used. You can subscribe again.",
        "sub_unsub_title": "Unsubscribe",
        "sub_unsub_text": "Stop every status message to {address}?",
        "sub_unsub_button": "Unsubscribe",
        "sub_unsubscribed_title": "Unsubscribed",
        "sub_unsubscribed": "{address} will not get status messages from us any more.",
        "sub_too_many": "Too many requests from your connection. Please try again later.",
        "err_channel": "Choose email, text message or webhook.",
        "err_email": "Enter an email address like name@example.com.",
        "err_phone": "Enter a mobile number, for example 0412 345 678.",
        "err_webhook": "Enter a public https:// address that we can reach.",
        "err_topic": "Choose a postcode, a state or a service.",
        "err_postcode": "Enter a postcode of 4 digits, for example 2000.",
        "err_state": "Choose a state or territory.",
        "err_product": "Choose a service.",
        "err_language": "Choose a language.",
        "err_code": "That code is not right, or it has expired.",
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
        "lookup_title": "查询您所在的地区",
        "lookup_label": "邮编",
        "lookup_hint": "4 位数字，例如 2000",
        "lookup_button": "查询",
        "lookup_none": "{area} 没有已知的服务中断。",
        "lookup_found": "{area} 的服务中断",
        "lookup_places": "地区：{places}",
        "lookup_postcodes": "邮编：{places}",
        "lookup_place_label": "或郊区、城镇名称",
        "lookup_place_hint": "例如 Parramatta",
        "lookup_state_label": "州",
        "lookup_any_state": "全部",
        "lookup_empty": "请输入 4 位数字的邮编，或郊区、城镇名称。",
        "lookup_bad_place": "请用字母输入郊区或城镇名称，最多 60 个字符，例如 Parramatta。",
        "lookup_similar": "名称相近、有当前或最近服务中断的地区",
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
        "subscribe_link": "通过电子邮件或短信接收服务中断消息",
        "subscribe_title": "订阅服务中断消息",
        "subscribe_intro": (
            "当服务中断影响到您选择的地区或服务时，以及每次有新进展时，我们都会通知您。"
            "我们会先发送一条确认消息，核实地址属于您本人；在您确认之前，我们不会发送其他消息。"
        ),
        "sub_how": "您希望我们如何通知您？",
        "sub_email": "电子邮件",
        "sub_sms": "短信",
        "sub_webhook": "Webhook（供开发者使用）",
        "sub_email_label": "电子邮件地址",
        "sub_phone_label": "手机号码",
        "sub_phone_hint": "例如 0412 345 678",
        "sub_webhook_label": "Webhook 网址",
        "sub_webhook_hint": "我们会向此 https:// 地址发送 JSON（POST）",
        "sub_what": "关于哪方面？",
        "sub_postcode": "一个邮编",
        "sub_state": "一个州或领地",
        "sub_product": "一项服务",
        "sub_choose": "请选择",
        "sub_language": "消息语言",
        "sub_button": "订阅",
        "sub_errors": "请更正下面标出的内容。",
        "sub_sent_title": "请查看您的消息",
        "sub_sent_text": (
            "如果此地址可以接收我们的消息，我们已向其发送确认消息。"
            "在您确认之前，我们不会发送其他消息。链接和验证码7天内有效。"
        ),
        "sub_code_title": "收到短信验证码了吗？",
        "sub_code_label": "6位验证码",
        "sub_confirm_button": "确认",
        "sub_confirm_title": "确认订阅",
        "sub_confirm_text": "确认 {address} 接收关于{topic}的消息。",
        "sub_confirmed_title": "订阅成功",
        "sub_confirmed": "{address} 将收到关于{topic}的消息。每条消息都附有退订链接。",
        "sub_bad_link": "此链接已过期或已被使用。您可以重新订阅。",
        "sub_unsub_title": "退订",
        "sub_unsub_text": "停止向 {address} 发送所有状态消息？",
        "sub_unsub_button": "退订",
        "sub_unsubscribed_title": "已退订",
        "sub_unsubscribed": "{address} 将不再收到我们的状态消息。",
        "sub_too_many": "您的网络连接请求过多，请稍后再试。",
        "err_channel": "请选择电子邮件、短信或 Webhook。",
        "err_email": "请输入电子邮件地址，例如 name@example.com。",
        "err_phone": "请输入手机号码，例如 0412 345 678。",
        "err_webhook": "请输入我们可以访问的公共 https:// 地址。",
        "err_topic": "请选择邮编、州或服务。",
        "err_postcode": "请输入 4 位数字的邮编，例如 2000。",
        "err_state": "请选择一个州或领地。",
        "err_product": "请选择一项服务。",
        "err_language": "请选择语言。",
        "err_code": "验证码不正确或已过期。",
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
        "lookup_title": "Kiểm tra khu vực của bạn",
        "lookup_label": "Mã bưu điện",
        "lookup_hint": "4 chữ số, ví dụ 2000",
        "lookup_button": "Kiểm tra",
        "lookup_none": "Không có sự cố nào được biết ở {area}.",
        "lookup_found": "Sự cố ở {area}",
        "lookup_places": "Nơi: {places}",
        "lookup_postcodes": "Mã bưu điện: {places}",
        "lookup_place_label": "Hoặc vùng ngoại ô, thị trấn",
        "lookup_place_hint": "Ví dụ Parramatta",
        "lookup_state_label": "Bang",
        "lookup_any_state": "Tất cả",
        "lookup_empty": "Hãy nhập mã bưu điện gồm 4 chữ số, hoặc tên vùng ngoại ô hay thị trấn.",
        "lookup_bad_place": (
            "Hãy nhập tên vùng ngoại ô hoặc thị trấn bằng chữ cái, tối đa 60 ký tự, ví dụ "
            "Parramatta."
        ),
        "lookup_similar": "Những nơi có tên tương tự đang hoặc vừa có sự cố",
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
        "subscribe_link": "Nhận tin sự cố qua email hoặc tin nhắn",
        "subscribe_title": "Nhận tin về sự cố",
        "subscribe_intro": (
            "Chúng tôi sẽ báo cho quý khách khi có sự cố ở nơi hoặc dịch vụ quý khách chọn, và mỗi "
            "lần có cập nhật. Trước tiên chúng tôi gửi một tin để xác nhận địa chỉ là của quý "
            "khách; không gửi gì khác cho đến khi quý khách xác nhận."
        ),
        "sub_how": "Chúng tôi nên báo cho quý khách bằng cách nào?",
        "sub_email": "Email",
        "sub_sms": "Tin nhắn",
        "sub_webhook": "Webhook (cho lập trình viên)",
        "sub_email_label": "Địa chỉ email",
        "sub_phone_label": "Số điện thoại di động",
        "sub_phone_hint": "Ví dụ 0412 345 678",
        "sub_webhook_label": "Địa chỉ webhook",
        "sub_webhook_hint": "Địa chỉ https:// mà chúng tôi sẽ gửi JSON (POST) tới",
        "sub_what": "Về điều gì?",
        "sub_postcode": "Một mã bưu điện",
        "sub_state": "Một bang hoặc lãnh thổ",
        "sub_product": "Một dịch vụ",
        "sub_choose": "Hãy chọn",
        "sub_language": "Ngôn ngữ của tin nhắn",
        "sub_button": "Đăng ký",
        "sub_errors": "Xin sửa các mục được đánh dấu bên dưới.",
        "sub_sent_title": "Hãy kiểm tra tin nhắn",
        "sub_sent_text": (
            "Nếu địa chỉ này nhận được tin của chúng tôi, chúng tôi đã gửi một tin xác nhận. Không "
            "có gì khác được gửi cho đến khi quý khách xác nhận. Liên kết và mã có hiệu lực trong "
            "7 ngày."
        ),
        "sub_code_title": "Quý khách nhận được mã qua tin nhắn?",
        "sub_code_label": "Mã 6 chữ số",
        "sub_confirm_button": "Xác nhận",
        "sub_confirm_title": "Xác nhận đăng ký",
        "sub_confirm_text": "Xác nhận rằng {address} sẽ nhận tin về {topic}.",
        "sub_confirmed_title": "Đã đăng ký",
        "sub_confirmed": (
            "{address} sẽ nhận tin về {topic}. Mỗi tin đều có liên kết để hủy đăng ký."
        ),
        "sub_bad_link": "Liên kết này đã hết hạn hoặc đã được dùng. Quý khách có thể đăng ký lại.",
        "sub_unsub_title": "Hủy đăng ký",
        "sub_unsub_text": "Ngừng mọi tin về tình trạng gửi tới {address}?",
        "sub_unsub_button": "Hủy đăng ký",
        "sub_unsubscribed_title": "Đã hủy đăng ký",
        "sub_unsubscribed": "{address} sẽ không nhận tin về tình trạng từ chúng tôi nữa.",
        "sub_too_many": "Có quá nhiều yêu cầu từ kết nối của quý khách. Vui lòng thử lại sau.",
        "err_channel": "Hãy chọn email, tin nhắn hoặc webhook.",
        "err_email": "Hãy nhập địa chỉ email, ví dụ name@example.com.",
        "err_phone": "Hãy nhập số di động, ví dụ 0412 345 678.",
        "err_webhook": "Hãy nhập một địa chỉ https:// công khai mà chúng tôi truy cập được.",
        "err_topic": "Hãy chọn mã bưu điện, bang hoặc dịch vụ.",
        "err_postcode": "Hãy nhập mã bưu điện gồm 4 chữ số, ví dụ 2000.",
        "err_state": "Hãy chọn một bang hoặc lãnh thổ.",
        "err_product": "Hãy chọn một dịch vụ.",
        "err_language": "Hãy chọn ngôn ngữ.",
        "err_code": "Mã không đúng hoặc đã hết hạn.",
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
