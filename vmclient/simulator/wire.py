"""How the provider writes things on the wire: the envelope, hosts, templates, images, disks,
personal images, JSON.

Every version difference that changes a document's shape is applied here, from the config:
`envelope_extras`, `ipv4_field`, `host_status_fields`, `package_gpu_name`, `numbers_as_strings`
and `mask_passwords`.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from decimal import Decimal
from typing import Any

from .codes import MESSAGES, SUCCESS
from .config import SimulatorConfig
from .fleet import SimHost, SimImage, SimPackage
from .storage import SimDisk, SimPersonalImage

CONTENT_TYPE = "application/json;charset=UTF-8"  # what a Spring service sends
MASKED_PASSWORD = "*****"  # noqa: S105 (what masking looks like)

# Decimals travel through json.dumps as marked strings and are unquoted afterwards, so a price
# is written `5.00`, with its scale, as the provider writes it (floats would say `5.0`).
_DECIMAL_MARK = "\x00"
_MARKED_DECIMAL = re.compile(r'"\\u0000([-+0-9.eE]+)\\u0000"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_DECIMAL_MARK}{value}{_DECIMAL_MARK}"
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(document: Any) -> bytes:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_default)
    return _MARKED_DECIMAL.sub(r"\1", text).encode("utf-8")


def trace_id() -> str:
    """A fresh id for the provider's support, like "1d54...2799"."""
    return uuid_module.uuid4().hex


def envelope(config: SimulatorConfig, code: int, data: Any = None, msg: str | None = None) -> dict:
    """The answer around every result; `success` and `traceId` only with envelope_extras."""
    msg = msg if msg is not None else MESSAGES.get(code, "")
    if not config.envelope_extras:
        # The original examples' order: code, data, msg.
        return {"code": code, "data": data, "msg": msg}
    return {
        "code": code,
        "success": code == SUCCESS,
        "msg": msg,
        "data": data,
        "traceId": trace_id(),
    }


def number(config: SimulatorConfig, value: Any) -> Any:
    """A numeric field, as a string when the provider sends strings."""
    if value is None or not config.numbers_as_strings:
        return value
    return str(value)


def host_json(config: SimulatorConfig, host: SimHost) -> dict:
    n = lambda value: number(config, value)  # noqa: E731
    password = host.host_pw
    if password is not None and config.mask_passwords:
        password = MASKED_PASSWORD
    out = {
        "id": host.id,
        "name": host.name,
        "gpuConfiguration": host.gpu_configuration,
        "gpuNumber": n(host.gpu_number),
        "memory": n(host.memory),
        "cpu": n(host.cpu),
        "rigidDisk": n(host.rigid_disk),
        "operatingSystem": host.operating_system,
        "hostAccount": host.host_account,
        "hostPw": password,
        "address": host.address,
        "port": n(host.port),
        "mac": host.mac,
        config.ipv4_field: host.ipv4,
        "pveMachineType": str(host.pve_machine_type),
    }
    if config.host_status_fields:
        out["useType"] = str(host.use_type)
        out["status"] = str(int(host.status))
        out["area"] = str(host.area)
    out["createTime"] = n(host.create_time)
    out["expirationTime"] = n(host.expiration_time)
    return out


def package_json(config: SimulatorConfig, package: SimPackage) -> dict:
    n = lambda value: number(config, value)  # noqa: E731
    out: dict[str, Any] = {"packageId": package.package_id, "name": package.name}
    if package.gpu_number is not None:
        out["gpuNumber"] = n(package.gpu_number)
    if config.package_gpu_name:
        out["gpuName"] = package.gpu_name
    out.update(
        {
            "memoryNumber": n(package.memory_number),
            "rigidDiskNumber": n(package.rigid_disk_number),
            "amount": n(package.amount),
            "cpuNumber": n(package.cpu_number),
            "bandWidth": n(package.band_width),
            "type": package.type,
            "pveMachineType": str(package.pve_machine_type),
            "area": str(package.area),
            "useType": str(package.use_type),
            "discount": n(package.discount),
        }
    )
    return out


def image_json(image: SimImage) -> dict:
    return {
        "imageId": image.image_id,
        "type": image.type,
        "systemImageName": image.system_image_name,
        "systemImageVersion": image.system_image_version,
    }


def disk_json(config: SimulatorConfig, disk: SimDisk) -> dict:
    """A disk as `getList` and `info` show it; `amount` a string, as the docs allow."""
    n = lambda value: number(config, value)  # noqa: E731
    return {
        "id": disk.id,
        "uuid": disk.uuid,
        "name": disk.name,
        "pveId": disk.pve_id,
        "isMount": n(disk.is_mount),
        "bus": disk.bus,
        "area": n(disk.area),
        "memory": n(disk.memory),
        "useType": n(disk.use_type),
        "amount": str(disk.amount),
        "status": n(int(disk.status)),
        "createTime": n(disk.create_time),
    }


def personal_image_json(config: SimulatorConfig, image: SimPersonalImage) -> dict:
    n = lambda value: number(config, value)  # noqa: E731
    return {
        "id": n(image.id),
        "imageId": image.image_id,
        "imageType": image.image_type,
        "imageName": image.image_name,
        "imageSize": n(image.image_size),
        "datacenterKey": image.datacenter_key,
        "status": n(int(image.status)),
        "createTime": n(image.create_time),
    }
