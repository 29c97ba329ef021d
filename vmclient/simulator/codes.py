"""The upstream's envelope codes and their messages, as the reference lists them."""

from __future__ import annotations

SUCCESS = 0
UNAUTHENTICATED = 401
SYSTEM_ERROR = 500
INTERFACE_ERROR = 503
NO_PERMISSION = 1001
BUSINESS_ERROR = 1003  # 自定义业务异常: the msg says what went wrong
PROCESSING = 1005
MISSING_PARAMETER = 1007
REAL_NAME_REQUIRED = 1037
ALREADY_BOOTING = 6000
ALREADY_SHUTTING_DOWN = 6001
NO_RESOURCES = 6002
POWER_ON_BALANCE_TOO_LOW = 6003
CREATION_WAITING = 6005
REBOOT_NEVER_STARTED = 7002
REBOOT_UNAVAILABLE = 7003
REBOOT_NOT_RUNNING = 7004
TYPE_MISMATCH = 7005
WALLET_ERROR = 9000
WALLET_BALANCE_TOO_LOW = 9001

MESSAGES = {
    SUCCESS: "success",
    UNAUTHENTICATED: "身份认证失败",
    SYSTEM_ERROR: "系统错误",
    INTERFACE_ERROR: "接口异常",
    NO_PERMISSION: "权限不足",
    BUSINESS_ERROR: "自定义业务异常",
    PROCESSING: "请求处理中",
    MISSING_PARAMETER: "请求缺少必要参数",
    REAL_NAME_REQUIRED: "未进行实名认证",
    ALREADY_BOOTING: "开机中",
    ALREADY_SHUTTING_DOWN: "关机中",
    NO_RESOURCES: "资源不足, 请重新选择配置",
    POWER_ON_BALANCE_TOO_LOW: "钱包余额不足",
    CREATION_WAITING: "创建等待",
    REBOOT_NEVER_STARTED: "未启动的主机不能重启",
    REBOOT_UNAVAILABLE: "虚拟机不可用，不能重启",
    REBOOT_NOT_RUNNING: "主机未运行，不能重启",
    TYPE_MISMATCH: "主机模板类型与镜像类型不一致",
    WALLET_ERROR: "钱包异常",
    WALLET_BALANCE_TOO_LOW: "钱包余额不足",
}


class ApiError(Exception):
    """A non-zero envelope code. `msg` defaults to the reference's message for the code."""

    def __init__(self, code: int, msg: str | None = None) -> None:
        self.code = code
        self.msg = msg if msg is not None else MESSAGES.get(code, MESSAGES[BUSINESS_ERROR])
        super().__init__(f"{code} {self.msg}")
