"""统一社会信用代码 (Unified Social Credit Code), GB 32100-2015.

Layout of the 18 characters::

    1     登记管理部门码 (registration authority, e.g. 9 = 市场监管/工商)
    2     机构类别码 (e.g. 1 = 企业)
    3–8   登记管理机关行政区划码 (GB/T 2260)
    9–17  主体标识码 = 组织机构代码 (GB 11714: 8 characters + check character)
    18    校验码, computed over the first 17 with weights 3^i mod 31

Characters come from ``0-9`` and the 21 capitals without I, O, Z, S, V.
"""

from __future__ import annotations

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def uscc_check_digit(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given (GB 32100 §5)."""
    if len(first17) != 17:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    total = 0
    for ch, weight in zip(first17.upper(), _USCC_WEIGHTS):
        value = USCC_CHARSET.find(ch)
        if value < 0:
            raise ValueError(f"character {ch!r} is not allowed in a USCC")
        total += value * weight
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_digit(first8: str) -> str:
    """The 9th character of an organisation code (GB 11714-1997)."""
    if len(first8) != 8:
        raise ValueError(f"expected 8 characters, got {len(first8)}")
    total = sum(_ORG_CHARSET.index(ch) * w for ch, w in zip(first8.upper(), _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_uscc(code: str) -> bool:
    """True when ``code`` has 18 allowed characters and a correct check character."""
    if not isinstance(code, str) or len(code) != 18:
        return False
    code = code.upper()
    if any(ch not in USCC_CHARSET for ch in code):
        return False
    return uscc_check_digit(code[:17]) == code[17]


def make_uscc(region_code: str, org_body: str, authority: str = "9", category: str = "1") -> str:
    """Assemble a valid USCC from a 6-digit region code and an 8-character organisation body."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError(f"region code must be 6 digits, got {region_code!r}")
    org = org_body.upper()
    if any(ch not in USCC_CHARSET for ch in org):
        raise ValueError(f"organisation body {org_body!r} has characters a USCC cannot hold")
    org_check = org_code_check_digit(org)
    first17 = f"{authority}{category}{region_code}{org}{org_check}"
    return first17 + uscc_check_digit(first17)
