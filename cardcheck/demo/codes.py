"""Numbers that must be valid: ID numbers (GB 11643), bank cards (Luhn), phones; and name lists.

Everything works on whole numpy arrays, so a million people cost one pass, not a million calls.
"""

from __future__ import annotations

import numpy as np
import polars as pl

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.array(list("10X98765432"))

SURNAMES = list(
    "王李张刘郭高贾任白薛杨赵武冯田马孙陈宋闫梁韩乔吕霍成贺穆康石崔曹牛卫侯苏薄雷"
)
MALE = list("建国军文明志强伟平华永刚海林东春福生德忠胜兵亮鹏飞宝成俊杰斌龙峰")
FEMALE = list("秀英兰芳玉珍桂凤霞丽萍红梅娟燕琴艳敏静娥花荣爱莲翠巧云香春丽")
NAME_ALT = dict(zip("军明强伟华刚林英兰芳珍凤霞萍红", "君铭蔷玮桦钢琳瑛岚方贞峰侠平宏"))


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as an (n, width) array of decimal digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers[None, :]) % 10


def id_check_digit(body17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters for an (n, 17) digit array."""
    return ID_CHECK[(body17 * ID_WEIGHTS).sum(axis=1) % 11]


def id_numbers(region: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-digit IDs from region codes (int), birth dates (datetime64[D]) and 3-digit sequences."""
    ymd = birth.astype("datetime64[D]").astype(str)
    ymd_int = np.char.replace(ymd, "-", "").astype(np.int64)
    body = region.astype(np.int64) * 10**11 + ymd_int * 1000 + seq.astype(np.int64)
    check = id_check_digit(digits(body, 17))
    return np.char.add(body.astype(str), check)


def with_check(body17: str) -> str:
    """One 17-digit body with its check character (for a handful of planted IDs)."""
    arr = np.array([[int(c) for c in body17]], dtype=np.int64)
    return body17 + str(id_check_digit(arr)[0])


def wrong_check(id18: str) -> str:
    """The same ID with a check character that fails GB 11643."""
    good = id18[-1]
    bad = "0" if good != "0" else "1"
    return id18[:-1] + bad


def legacy15(id18: pl.Expr) -> pl.Expr:
    """The 15-digit form of an 18-digit ID born in the 1900s (drop '19' and the check digit)."""
    return id18.str.slice(0, 6) + id18.str.slice(8, 9)


def luhn_digit(body: np.ndarray, width: int) -> np.ndarray:
    """Luhn check digits for integers of `width` digits."""
    d = digits(body, width)
    # double every second digit counting from the right end of the body
    double = (np.arange(width)[::-1] % 2) == 0
    dd = np.where(double[None, :], d * 2, d)
    dd = np.where(dd > 9, dd - 9, dd)
    return (10 - dd.sum(axis=1) % 10) % 10


def card_numbers(prefix: int, seq: np.ndarray, length: int, salt: int) -> np.ndarray:
    """Distinct card numbers: 6-digit bank prefix, a scrambled serial, a Luhn digit.

    The serial is `(seq * A + salt) mod 10^k` with A odd and not a multiple of 5, a bijection, so
    distinct `seq` give distinct cards without any lookup.
    """
    k = length - 7
    modulus = 10**k
    serial = (seq.astype(np.int64) * 7_919_347 + salt) % modulus
    body = prefix * modulus + serial
    return np.char.add(body.astype(str), luhn_digit(body, length - 1).astype(str))


def phones(keys: np.ndarray, salt: int) -> np.ndarray:
    """Distinct 11-digit mobile numbers for distinct non-negative keys (< 10^8)."""
    prefixes = np.array([134, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159, 182, 187, 188,
                         130, 131, 132, 155, 156, 185, 186, 133, 153, 180, 189])
    serial = (keys.astype(np.int64) * 3_344_773 + salt) % 10**8
    head = prefixes[(serial * 31 + keys) % len(prefixes)]
    return np.char.add(head.astype(str), np.char.zfill(serial.astype(str), 8))


def names(rng: np.random.Generator, surname_idx: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Chinese names: the given surname, then one or two characters fitting the sex."""
    n = len(surname_idx)
    sur = np.array(SURNAMES)[surname_idx % len(SURNAMES)]
    m1 = np.array(MALE)[rng.integers(0, len(MALE), n)]
    m2 = np.array(MALE)[rng.integers(0, len(MALE), n)]
    f1 = np.array(FEMALE)[rng.integers(0, len(FEMALE), n)]
    f2 = np.array(FEMALE)[rng.integers(0, len(FEMALE), n)]
    first = np.where(male, m1, f1)
    second = np.where(male, m2, f2)
    two = rng.random(n) < 0.7
    return np.char.add(np.char.add(sur, first), np.where(two, second, ""))


def misspelt(name: str) -> str:
    """The same name with one character replaced by a homophone (a typing slip at the bank)."""
    for i in range(len(name) - 1, 0, -1):
        if name[i] in NAME_ALT:
            return name[:i] + NAME_ALT[name[i]] + name[i + 1:]
    return name[:-1] + ("军" if name[-1] != "军" else "君")
