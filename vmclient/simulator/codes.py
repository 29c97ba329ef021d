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
# Cloud disks
HOST_DOES_NOT_EXIST = 1021
DISK_NOT_FOUND = 220001
DISK_ALREADY_MOUNTED = 220002
DISK_ALREADY_UNMOUNTED = 220006
DISK_UNMOUNT_FAILED = 220007
HOST_NOT_OFF = 220009
HOST_DISK_LIMIT = 220010
HOST_NEVER_STARTED = 220012
DISK_TOO_SMALL = 220013
DISK_QUOTA_EXCEEDED = 220014
HOST_ID_MISSING = 220015
HOST_INSTANCE_MISSING = 220016
HOST_NOT_PAY_AS_YOU_GO = 220017
DISK_AREA_MISMATCH = 220018
BAD_MOUNT_FLAG = 220020
DISK_NOT_UNMOUNTED = 220022
HOSTS_ON_DIFFERENT_NODES = 220024
DISK_TIMED_OUT_OR_TOO_FREQUENT = 220025
# Personal images
ILLEGAL_REQUEST = 200001
TOO_MANY_IMAGES = 200002
IMAGE_NAME_TAKEN = 200003

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
    HOST_DOES_NOT_EXIST: "主机不存在",
    DISK_NOT_FOUND: "云硬盘不存在",
    DISK_ALREADY_MOUNTED: "云硬盘已挂载",
    DISK_ALREADY_UNMOUNTED: "云硬盘已卸载",
    DISK_UNMOUNT_FAILED: "云硬盘卸载失败",
    HOST_NOT_OFF: "请先关闭主机",
    HOST_DISK_LIMIT: "主机挂载的云硬盘已达上限",
    HOST_NEVER_STARTED: "主机创建后未开机过，不能挂载云硬盘",
    DISK_TOO_SMALL: "云硬盘容量不能小于20G",
    DISK_QUOTA_EXCEEDED: "云硬盘容量超出该区域上限",
    HOST_ID_MISSING: "主机id不能为空",
    HOST_INSTANCE_MISSING: "主机实例不存在",
    HOST_NOT_PAY_AS_YOU_GO: "仅按量计费的主机可以挂载云硬盘",
    DISK_AREA_MISMATCH: "云硬盘与主机不在同一区域",
    BAD_MOUNT_FLAG: "是否挂载参数错误",
    DISK_NOT_UNMOUNTED: "云硬盘未卸载，不能销毁",
    HOSTS_ON_DIFFERENT_NODES: "主机不在同一节点，不能共享云硬盘",
    DISK_TIMED_OUT_OR_TOO_FREQUENT: "请求超时或过于频繁，请稍后再试",
    ILLEGAL_REQUEST: "非法请求",
    TOO_MANY_IMAGES: "镜像数量已达上限",
    IMAGE_NAME_TAKEN: "镜像名称已存在",
}


class ApiError(Exception):
    """A non-zero envelope code. `msg` defaults to the reference's message for the code."""

    def __init__(self, code: int, msg: str | None = None) -> None:
        self.code = code
        self.msg = msg if msg is not None else MESSAGES.get(code, MESSAGES[BUSINESS_ERROR])
        super().__init__(f"{code} {self.msg}")
