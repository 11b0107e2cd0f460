"""The words of a customer's one-click pages (unsubscribe, survey, a link that does not work)
in each language we ship, so a customer who read our message in Chinese or Vietnamese lands on
a page in it too. One table, so a translator sees every line at once."""

from __future__ import annotations

from amends.outages.queries import primary_language

PAGE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to content",
        "service_status": "Service status",
        "questions": "Questions? Call us on {help_line}.",
        "unsubscribed": "You are unsubscribed",
        "unsubscribed_banner": "We will not send you apologies, surveys or other messages "
        "you can do without.",
        "unsubscribe": "Unsubscribe",
        "unsubscribe_what": "Stop the messages you can do without: apologies after an outage, "
        "surveys and other news from us.",
        "still_come": "Outage notices still come.",
        "still_come_what": "When an outage affects your services we will still tell you that "
        "we know about it, when we expect it fixed, when that changes and when it is back, and "
        "about any credit we owe you.",
        "preferences_link": "Choose how and when we contact you",
        "thanks": "Thank you",
        "how_did_we_do": "How did we do?",
        "your_score": "Your score: {score} out of 5.",
        "comment_saved": "Your comment is saved.",
        "change_score": "Changed your mind? Choose another score:",
        "survey_question": "How did we handle the outage?",
        "choose_score": "Choose a score, 1 (poor) to 5 (very good):",
        "your_score_mark": "(your score)",
        "comment_label": "Anything you would like to tell us? (optional)",
        "send_comment": "Send comment",
        "bad_link": "This link does not work",
        "bad_link_help": "Check that you opened the whole link from our message, or call us "
        "on {help_line}.",
    },
    "zh": {
        "skip": "跳到正文",
        "service_status": "服务状态",
        "questions": "有疑问？请致电{help_line}。",
        "unsubscribed": "您已退订",
        "unsubscribed_banner": "我们不会再向您发送致歉、问卷调查或其他非必要的消息。",
        "unsubscribe": "退订",
        "unsubscribe_what": "停止接收非必要的消息：服务中断后的致歉、问卷调查和其他资讯。",
        "still_come": "服务中断通知仍会发送。",
        "still_come_what": "当服务中断影响您的服务时，我们仍会告诉您：我们已知悉、预计何时修复、"
        "时间如有变化、何时恢复，以及我们欠您的任何补偿。",
        "preferences_link": "选择我们联系您的方式和时间",
        "thanks": "谢谢您",
        "how_did_we_do": "我们做得怎么样？",
        "your_score": "您的评分：{score}分（满分5分）。",
        "comment_saved": "您的意见已保存。",
        "change_score": "想改评分？请选择：",
        "survey_question": "我们对这次服务中断的处理如何？",
        "choose_score": "请评分，1分（差）到5分（很好）：",
        "your_score_mark": "（您的评分）",
        "comment_label": "还有什么想告诉我们的吗？（选填）",
        "send_comment": "提交意见",
        "bad_link": "此链接无效",
        "bad_link_help": "请确认您打开的是我们消息中的完整链接，或致电{help_line}。",
    },
    "vi": {
        "skip": "Chuyển đến nội dung",
        "service_status": "Tình trạng dịch vụ",
        "questions": "Có thắc mắc? Xin gọi {help_line}.",
        "unsubscribed": "Quý khách đã hủy đăng ký",
        "unsubscribed_banner": "Chúng tôi sẽ không gửi lời xin lỗi, khảo sát hay các tin "
        "nhắn không cần thiết khác cho quý khách nữa.",
        "unsubscribe": "Hủy đăng ký",
        "unsubscribe_what": "Ngừng nhận các tin nhắn không cần thiết: lời xin lỗi sau sự cố, "
        "khảo sát và tin tức khác từ chúng tôi.",
        "still_come": "Thông báo về sự cố vẫn được gửi.",
        "still_come_what": "Khi sự cố ảnh hưởng đến dịch vụ của quý khách, chúng tôi vẫn báo "
        "rằng chúng tôi đã biết, khi nào dự kiến khắc phục, khi thời gian đó thay đổi, khi "
        "dịch vụ có lại, và khoản bồi hoàn chúng tôi nợ quý khách.",
        "preferences_link": "Chọn cách và thời gian chúng tôi liên lạc",
        "thanks": "Cảm ơn quý khách",
        "how_did_we_do": "Chúng tôi làm thế nào?",
        "your_score": "Điểm của quý khách: {score} trên 5.",
        "comment_saved": "Ý kiến của quý khách đã được lưu.",
        "change_score": "Muốn đổi điểm? Xin chọn lại:",
        "survey_question": "Chúng tôi xử lý sự cố thế nào?",
        "choose_score": "Xin chấm điểm, từ 1 (kém) đến 5 (rất tốt):",
        "your_score_mark": "(điểm của quý khách)",
        "comment_label": "Quý khách có muốn nhắn gì thêm không? (không bắt buộc)",
        "send_comment": "Gửi ý kiến",
        "bad_link": "Liên kết này không dùng được",
        "bad_link_help": "Xin kiểm tra quý khách đã mở đủ liên kết trong tin nhắn, hoặc gọi "
        "{help_line}.",
    },
}


def page_language(tag: str | None) -> str:
    """The language a customer's page is in: theirs if we ship its words, else English."""
    primary = primary_language(tag or "en")
    return primary if primary in PAGE_WORDS else "en"


def page_words(language: str, *, help_line: str, score: int | None = None) -> dict[str, str]:
    """The page's words in ``language`` (from ``page_language``), the help line and the
    customer's score (when they gave one) filled in."""
    words = dict(PAGE_WORDS[language])
    words["questions"] = words["questions"].format(help_line=help_line)
    words["bad_link_help"] = words["bad_link_help"].format(help_line=help_line)
    words["your_score"] = words["your_score"].format(score=score) if score else ""
    return words
