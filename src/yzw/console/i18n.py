"""The console's words: Chinese first, English on request (the `lang` cookie, switched in the header)."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
WORDS: dict[str, tuple[str, str]] = {
    "console": ("一张网接入验收台", "Acceptance desk"),
    "systems": ("接入系统", "Systems"),
    "certificates": ("证书", "Certificates"),
    "audit": ("操作日志", "Audit log"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "name": ("账号", "Account"),
    "password": ("密码", "Password"),
    "vendor": ("厂商", "Vendor"),
    "department": ("部门", "Department"),
    "latest_run": ("最近一次认证", "Latest run"),
    "certificate": ("证书", "Certificate"),
    "register": ("登记系统", "Register a system"),
    "record": ("接入登记 (sut.yaml)", "Registration record (sut.yaml)"),
    "runs": ("认证运行", "Runs"),
    "start_run": ("开始认证", "Start a run"),
    "profile": ("配置", "Profile"),
    "chapters": ("章节 (如 REG,APP; 留空为全部)", "Chapters (e.g. REG,APP; empty for all)"),
    "only": ("仅这些要求 (如 ACC-06)", "Only these requirements (e.g. ACC-06)"),
    "status": ("状态", "Status"),
    "checks": ("检查项", "Checks"),
    "report": ("报告", "Report"),
    "issue": ("签发证书", "Issue a certificate"),
    "operator": ("请操作员执行", "For the operator"),
    "done": ("已完成", "Done"),
    "skip": ("跳过", "Skip"),
    "give_up": ("放弃等待", "Give up"),
    "number": ("受理后的申报号", "The application_no it got"),
    "send": ("提交", "Send"),
    "waivers": ("豁免", "Waivers"),
    "record_waiver": ("登记豁免", "Record a waiver"),
    "requirement": ("要求编号", "Requirement"),
    "reason": ("理由", "Reason"),
    "approvers": ("批准人", "Approvers"),
    "approve": ("第二人批准", "Approve as second approver"),
    "expires": ("有效期至", "Expires"),
    "revoke": ("吊销", "Revoke"),
    "revoked": ("已吊销", "Revoked"),
    "issued": ("签发", "Issued"),
    "public_key": ("办公室公钥", "Office public key"),
    "revocation_list": ("吊销列表", "Revocation list"),
    "denied": ("无权访问", "Not allowed"),
    "when": ("时间", "When"),
    "action": ("操作", "Action"),
    "answered": ("已回复", "Answered"),
    "waiting": ("等待中", "Waiting"),
    "moved_on": ("检查已继续，无需回复", "The check moved on: no answer needed"),
    "traffic": ("接口流量", "Traffic"),
    "traffic_note": (
        "各节点收到的本系统请求与应答（最新在前；证件号、手机号已脱敏，密钥已隐去）",
        "the system's requests and answers at each node, newest first (ID numbers, phones masked; secrets hidden)",
    ),
    "cases": ("办件时间线", "Cases"),
    "cases_note": (
        "每件申报的事件在县 → 市 → 省各节点的到达时间与时延",
        "each application's events as they arrived at county → city → province, with each hop's delay",
    ),
    "request": ("请求", "Request"),
    "answer": ("应答", "Answer"),
    "delay": ("时延", "delay"),
    "refusals": ("被拒绝的推送", "Refused pushes"),
    "card": ("督办牌", "Card"),
    "own_only": (
        "本部门另有其他厂商的系统：仅显示本系统自己推送的申报",
        "another vendor has a system of this department: only this system's own applications are shown",
    ),
    "live": ("实时（每 5 秒刷新）", "Live (every 5 s)"),
    "stop_live": ("停止刷新", "Stop refreshing"),
    "in_force": ("生效", "in force"),
    "not_in_force": ("未生效", "not in force"),
}


def translator(language: str) -> Callable[[str], str]:
    index = 1 if language == "en" else 0

    def t(key: str) -> str:
        return WORDS[key][index] if key in WORDS else key

    return t
