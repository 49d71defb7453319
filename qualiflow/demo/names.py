"""Realistic Chinese names for the demo plant, with their Hanyu Pinyin.

Family names are drawn by their share of the population (2020 census, per cent); given names are one or two
characters from sets common for women or men. Every character carries the reading it has in a name, so the
Latin-script name is real pinyin without a dictionary dependency.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (family name, pinyin, share of the population in per cent)
FAMILY_NAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "Wang", 7.1), ("李", "Li", 7.0), ("张", "Zhang", 6.7), ("刘", "Liu", 5.4), ("陈", "Chen", 4.6),
    ("杨", "Yang", 3.1), ("黄", "Huang", 2.5), ("赵", "Zhao", 2.4), ("吴", "Wu", 2.2), ("周", "Zhou", 2.1),
    ("徐", "Xu", 1.7), ("孙", "Sun", 1.5), ("马", "Ma", 1.4), ("朱", "Zhu", 1.3), ("胡", "Hu", 1.3),
    ("郭", "Guo", 1.2), ("何", "He", 1.2), ("林", "Lin", 1.1), ("高", "Gao", 1.1), ("罗", "Luo", 1.0),
    ("郑", "Zheng", 1.0), ("梁", "Liang", 0.9), ("谢", "Xie", 0.8), ("宋", "Song", 0.8), ("唐", "Tang", 0.8),
    ("许", "Xu", 0.7), ("韩", "Han", 0.7), ("冯", "Feng", 0.7), ("邓", "Deng", 0.7), ("曹", "Cao", 0.7),
    ("彭", "Peng", 0.6), ("曾", "Zeng", 0.6), ("肖", "Xiao", 0.6), ("田", "Tian", 0.6), ("董", "Dong", 0.5),
    ("袁", "Yuan", 0.5), ("潘", "Pan", 0.5), ("于", "Yu", 0.5), ("蒋", "Jiang", 0.5), ("蔡", "Cai", 0.5),
    ("余", "Yu", 0.5), ("杜", "Du", 0.5), ("叶", "Ye", 0.5), ("程", "Cheng", 0.4), ("苏", "Su", 0.4),
    ("魏", "Wei", 0.4), ("吕", "Lyu", 0.4), ("丁", "Ding", 0.4), ("任", "Ren", 0.4), ("沈", "Shen", 0.4),
    ("姚", "Yao", 0.4), ("卢", "Lu", 0.4), ("姜", "Jiang", 0.3), ("崔", "Cui", 0.3), ("钟", "Zhong", 0.3),
    ("谭", "Tan", 0.3), ("陆", "Lu", 0.3), ("汪", "Wang", 0.3), ("范", "Fan", 0.3), ("金", "Jin", 0.3),
    ("石", "Shi", 0.3), ("廖", "Liao", 0.3), ("贾", "Jia", 0.3), ("夏", "Xia", 0.3), ("韦", "Wei", 0.3),
    ("付", "Fu", 0.3), ("方", "Fang", 0.3), ("白", "Bai", 0.3), ("邹", "Zou", 0.3), ("孟", "Meng", 0.3),
    ("熊", "Xiong", 0.3), ("秦", "Qin", 0.3), ("邱", "Qiu", 0.3), ("江", "Jiang", 0.3), ("尹", "Yin", 0.2),
    ("薛", "Xue", 0.2), ("闫", "Yan", 0.2), ("段", "Duan", 0.2), ("雷", "Lei", 0.2), ("侯", "Hou", 0.2),
    ("龙", "Long", 0.2), ("史", "Shi", 0.2), ("陶", "Tao", 0.2), ("黎", "Li", 0.2), ("贺", "He", 0.2),
    ("顾", "Gu", 0.2), ("毛", "Mao", 0.2), ("郝", "Hao", 0.2), ("龚", "Gong", 0.2), ("邵", "Shao", 0.2),
    ("万", "Wan", 0.2), ("钱", "Qian", 0.2), ("严", "Yan", 0.2), ("欧阳", "Ouyang", 0.05), ("上官", "Shangguan", 0.01),
)

# Given-name characters and their reading in names: the first of two, and the last (or only) one.
FEMALE_FIRST: tuple[tuple[str, str], ...] = (
    ("晓", "xiao"), ("思", "si"), ("雨", "yu"), ("梦", "meng"), ("诗", "shi"), ("佳", "jia"), ("欣", "xin"),
    ("美", "mei"), ("淑", "shu"), ("春", "chun"), ("桂", "gui"), ("秀", "xiu"), ("丽", "li"), ("雪", "xue"),
    ("婉", "wan"), ("雅", "ya"), ("静", "jing"), ("慧", "hui"), ("海", "hai"), ("玉", "yu"),
)
FEMALE_LAST: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"), ("娟", "juan"),
    ("霞", "xia"), ("玲", "ling"), ("燕", "yan"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("颖", "ying"),
    ("琳", "lin"), ("莉", "li"), ("倩", "qian"), ("洁", "jie"), ("萍", "ping"), ("红", "hong"), ("梅", "mei"),
    ("兰", "lan"), ("悦", "yue"), ("怡", "yi"), ("琪", "qi"), ("涵", "han"), ("雯", "wen"), ("晶", "jing"),
    ("璐", "lu"), ("瑶", "yao"), ("英", "ying"), ("凤", "feng"), ("蕾", "lei"), ("丹", "dan"), ("宁", "ning"),
)
MALE_FIRST: tuple[tuple[str, str], ...] = (
    ("志", "zhi"), ("建", "jian"), ("海", "hai"), ("晓", "xiao"), ("子", "zi"), ("家", "jia"), ("嘉", "jia"),
    ("浩", "hao"), ("俊", "jun"), ("宇", "yu"), ("天", "tian"), ("文", "wen"), ("永", "yong"), ("国", "guo"),
    ("一", "yi"), ("思", "si"), ("明", "ming"), ("德", "de"), ("振", "zhen"), ("立", "li"), ("春", "chun"),
)
MALE_LAST: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"),
    ("斌", "bin"), ("超", "chao"), ("明", "ming"), ("刚", "gang"), ("平", "ping"), ("辉", "hui"), ("鹏", "peng"),
    ("华", "hua"), ("飞", "fei"), ("鑫", "xin"), ("波", "bo"), ("宇", "yu"), ("浩", "hao"), ("凯", "kai"),
    ("健", "jian"), ("帆", "fan"), ("亮", "liang"), ("峰", "feng"), ("博", "bo"), ("晨", "chen"), ("阳", "yang"),
    ("林", "lin"), ("东", "dong"), ("成", "cheng"), ("泽", "ze"), ("睿", "rui"), ("轩", "xuan"), ("宏", "hong"),
    ("新", "xin"), ("安", "an"), ("龙", "long"),
)

_FAMILY_WEIGHTS = tuple(share for _, _, share in FAMILY_NAMES)


@dataclass(frozen=True)
class PersonName:
    family_name: str
    given_name: str
    latin_name: str  # pinyin, family name first as in Chinese: "Wang Xiao'an"


def join_syllables(syllables: list[str]) -> str:
    """Write a given name's syllables as one pinyin word; an apostrophe marks a syllable starting with
    a, o or e after the first, as the pinyin rules require (Xi'an, not Xian)."""
    word = syllables[0]
    for syllable in syllables[1:]:
        word += ("'" if syllable[0] in "aoe" else "") + syllable
    return word.capitalize()


def random_name(rng: random.Random, *, female: bool) -> PersonName:
    family, family_latin, _ = rng.choices(FAMILY_NAMES, weights=_FAMILY_WEIGHTS)[0]
    first, last = (FEMALE_FIRST, FEMALE_LAST) if female else (MALE_FIRST, MALE_LAST)
    picked = [rng.choice(last)] if rng.random() < 0.2 else [rng.choice(first), rng.choice(last)]
    given = "".join(char for char, _ in picked)
    return PersonName(family, given, f"{family_latin} {join_syllables([reading for _, reading in picked])}")
