#!/usr/bin/env python3
"""Render chat templates with transformers' own jinja2 environment and write
tests/data/chat/goldens.json for tests/chat (byte-identical comparison).

Usage: PYTHON=/work/refenv/bin/python; $PYTHON scripts/gen_template_goldens.py [--shared DIR]
Needs: transformers (5.x) and jinja2. Real templates come from the tokenizer
configs in <shared>/testdata/tokenizers and from tests/data/chat/*.jinja;
synthetic feature templates are defined below.
"""
import argparse
import json
import os
import sys

try:
    from transformers import AutoTokenizer
    from transformers.utils.chat_template_utils import _normalize_chat_messages, render_jinja_template
except ImportError as e:  # pragma: no cover
    sys.exit(f"gen_template_goldens.py needs transformers 5.x and jinja2 ({e}); "
             "run it with PYTHON=/work/refenv/bin/python")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "chat")

LLAMA2_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}

# Synthetic templates: one feature family each. They are test inputs, not real model templates.
SYNTHETIC = {
    "syn_loop_vars": "{% for m in messages %}[{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/"
                     "{{ loop.revindex0 }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }}/"
                     "{{ loop.previtem.role if loop.previtem is defined else '-' }}/"
                     "{{ loop.nextitem.role if loop.nextitem else '-' }}/{{ loop.cycle('odd', 'even') }}]"
                     "{% endfor %}",
    "syn_loop_filter_else": "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} "
                            "{% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}"
                            "|{% for k, v in {'a': 1, 'b': [2, 3]}.items() %}{{ k }}={{ v }};{% endfor %}"
                            "|{% for x in range(6) %}{% if x == 1 %}{% continue %}{% endif %}"
                            "{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "syn_scoping": "{% set c = 0 %}{% for m in messages %}{% set c = c + 1 %}{{ c }}{% endfor %}{{ c }}"
                   "|{% set ns = namespace(n=0, roles=[]) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                   "{% set ns.roles = ns.roles + [m.role] %}{% endfor %}{{ ns.n }}{{ ns.roles }}"
                   "|{% if true %}{% set inner = 'leaks' %}{% endif %}{{ inner }}",
    "syn_macro_call": "{% macro tag(name, body='-', close=true) %}<{{ name }}>{{ body }}{% if close %}</{{ name }}>"
                      "{% endif %}{% endmacro %}{% for m in messages %}{{ tag(m.role, m.content | trim) }}"
                      "{{ tag('x', close=false) }}{% endfor %}{% macro wrap(t) %}[{{ t }}:{{ caller() }}]"
                      "{% endmacro %}{% call wrap('w') %}inside {{ messages | length }}{% endcall %}",
    "syn_whitespace": "Start\n  {%- for m in messages %}\n    {{ m.role }}\n    {%- if m.content %} has content\n"
                      "    {% endif %}\n{# comment line #}\n  {#- trimmed comment -#}\n"
                      "  {{- ' [' + m.content + '] ' -}}\n  {% endfor %}\nEnd {{ 'x' }}  \n   {% if true %}"
                      "kept{% endif %}\n",
    "syn_lstrip_trim": "  {% if add_generation_prompt %}\n  gen\n  {% else %}\n  nogen\n  {% endif %}\n"
                       "a {% if true %}b{% endif %} c\n{%+ if true %}plus{% endif +%}\nend",
    "syn_slices": "{{ messages[1:] | map(attribute='role') | list }} {{ messages[::-1] | map(attribute='role') | join(',') }}"
                  " {{ messages[-1].role }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[-2:] }}"
                  " {{ [1, 2, 3, 4, 5][4:0:-2] }} {{ 'héllo wörld'[::-1] }} {{ (1, 2, 3)[1:] }}",
    "syn_operators": "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ -2 ** 2 }}"
                     " {{ 1 + 2 * 3 - 4 }} {{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 2 }} {{ [1] + [2] }}"
                     " {{ 1 == 1.0 }} {{ 1 < 2 < 3 }} {{ 'b' > 'a' }} {{ 'x' in 'xyz' }} {{ 3 not in [1, 2] }}"
                     " {{ 'k' in {'k': 1} }} {{ 0 or '' or 'z' }} {{ 1 and 2 }} {{ not none }} {{ 10 / 4 * 2 }}"
                     " {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 3 - 5 }}",
    "syn_literals": "{{ [1, 'a', none, true, 1.5, {'k': \"it's\", 'q': 'say \"hi\"'}] }} {{ (1,) }} {{ () }}"
                    " {{ {'nested': {'a': [1, (2, 3)]}} }} {{ 'tab\\there' }} {{ 'uni\\u00e9\\x41' }} {{ 'a' 'b' }}"
                    " {{ none }} {{ true }} {{ False }} {{ 0x1F }} {{ 1_000 }} {{ 2.50 }}",
    "syn_inline_if": "{{ 'yes' if add_generation_prompt else 'no' }}|{{ 'only' if add_generation_prompt }}|"
                     "{{ 'a' if false else 'b' if true else 'c' }}|{{ missing if missing is defined else 'undef' }}",
    "syn_tests": "{% for v in [none, true, false, 0, 3, 2.5, 'Ab', 'lo', 'UP', [1], {'a': 1}, missing] %}"
                 "{{ v is defined }}{{ v is none }}{{ v is string }}{{ v is number }}{{ v is integer }}"
                 "{{ v is float }}{{ v is boolean }}{{ v is mapping }}{{ v is iterable }}{{ v is sequence }}"
                 "{{ v is true }}{{ v is false }}{{ v is not none }};{% endfor %}"
                 "{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'a' is eq 'a' }}{{ 2 is equalto 3 }}"
                 "{{ 'b' is in 'abc' }}{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 1 is sameas 1 }}"
                 "{{ missing is undefined }}{{ 2 is gt 1 }}{{ 2 is lessthan 1 }}",
    "syn_string_filters": "{% for m in messages %}{{ m.content | trim }}|{{ m.content | upper }}|{{ m.content | lower }}|"
                          "{{ m.content | capitalize }}|{{ m.content | title }}|{{ m.content | length }}|"
                          "{{ m.content | replace('a', 'A') }}|{{ m.content | replace('a', 'A', 1) }}|"
                          "{{ m.content | wordcount }}|{{ m.content | e }}|{{ m.content | escape | safe }}|"
                          "{{ m.content | count }}|{{ m.content | reverse }}|{{ m.content | string }}\n{% endfor %}",
    "syn_number_filters": "{{ '42' | int }} {{ '3.7' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '4' | float }}"
                          " {{ 'x' | float }} {{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }}"
                          " {{ 2.675 | round(2) }} {{ 3 | round }} {{ 1.21 | round(1, 'ceil') }}"
                          " {{ 1.29 | round(1, 'floor') }} {{ 10 | string }} {{ 1.0 | string }}",
    "syn_default": "{{ missing | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|"
                   "{{ none | d('n') }}|{{ none | d('n', boolean=true) }}|{{ messages[0].nope | default('no key') }}",
    "syn_seq_filters": "{{ messages | map(attribute='role') | join(', ') }}|{{ messages | length }}|"
                       "{{ messages | first | tojson }}|{{ (messages | last).role }}|{{ 'abc' | list }}|"
                       "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}|"
                       "{{ messages | rejectattr('role', 'eq', 'user') | map(attribute='role') | list }}|"
                       "{{ messages | selectattr('tool_calls', 'defined') | list | length }}|"
                       "{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [1, 2, 0, none] | select | list }}|"
                       "{{ ['a', 'b', 'a'] | reject('equalto', 'a') | list }}|{{ ['x', 'y'] | map('upper') | list }}|"
                       "{{ ['B', 'a', 'C', 'b'] | sort }}|{{ ['B', 'a', 'C'] | sort(reverse=true) }}|"
                       "{{ ['B', 'a', 'C'] | sort(case_sensitive=true) }}|{{ messages | sort(attribute='role') | map(attribute='role') | list }}|"
                       "{{ ['a', 'A', 'b', 'a'] | unique | list }}|{{ [3, 1, 2] | reverse | list }}|"
                       "{{ {'b': 1, 'a': 2, 'C': 0} | dictsort }}|{{ {'b': 1, 'a': 2} | dictsort(by='value', reverse=true) }}|"
                       "{{ {'x': 1, 'y': [2]} | items | list }}|{{ [3, 1, 2] | min }}{{ [3, 1, 2] | max }}{{ [3, 1, 2] | sum }}|"
                       "{{ [1, 'a', none] | join }}|{{ messages | map(attribute='missing', default='dflt') | list }}",
    "syn_tojson": "{{ messages | tojson }}\n{{ messages[0] | tojson(indent=2) }}\n{{ {'b': 1, 'a': [1.5, none, true]} | tojson(sort_keys=true) }}"
                  "\n{{ {'k': 'é\"\\n'} | tojson(ensure_ascii=true) }}\n{{ [1, [2, {}], []] | tojson(indent='\\t') }}"
                  "\n{{ {'a': 1} | tojson(separators=(',', ':')) }}\n{{ 'x' | tojson }} {{ 2.0 | tojson }} {{ none | tojson }}",
    "syn_indent": "{{ 'line1\\nline2\\n\\nline4' | indent }}|{{ 'a\\nb' | indent(2, true) }}|"
                  "{{ 'a\\n\\nb' | indent(width='--', blank=true) }}|{{ 'one' | indent(first=true) }}",
    "syn_methods": "{% for m in messages %}{{ m.content.strip() }}|{{ m.content.split() }}|{{ m.content.split('a') }}|"
                   "{{ m.content.split(' ', 1) }}|{{ m.content.rsplit(' ', 1) }}|{{ m.content.startswith('He') }}|"
                   "{{ m.content.endswith(('?', '!')) }}|{{ m.content.upper() }}|{{ m.content.lower() }}|"
                   "{{ m.content.title() }}|{{ m.content.capitalize() }}|{{ m.content.replace(' ', '_') }}|"
                   "{{ m.content.lstrip('H') }}|{{ m.content.rstrip('!?.') }}|{{ m.content.find('o') }}|"
                   "{{ m.get('content') | length }}|{{ m.get('nothing', 'fallback') }}|{{ m.keys() | list }}|"
                   "{{ m.items() | list | length }}|{{ '-'.join(['a', 'b']) }}|{{ m.content.splitlines() }}\n{% endfor %}",
    "syn_set_block": "{% set header %}{{ messages | length }} messages{% endset %}[{{ header }}]"
                     "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (messages | map(attribute='role') | list)[0] %}{{ t }}"
                     "{% filter upper %}shout {{ messages[0].role }}{% endfilter %}",
    "syn_dict_attrs": "{% for m in messages %}{{ m['role'] }}={{ m.role }};{% endfor %}{{ messages.0.role }}"
                      "{{ extra_var }}{{ config.nested.value }}{{ config['nested']['value'] }}{{ config.missing }}"
                      "{{ config.missing is defined }}{{ none.x }}",
    "syn_python_repr": "{{ messages[0] }}|{{ tools }}|{{ [0.5, 1e16, -0.0, 100.0, 1234567.125] }}|"
                       "{{ ['tab\\t', 'nl\\n', 'both \\' \"', 'bs\\\\'] }}|{{ {'ü': 'ñ'} }}",
    "syn_raise": "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System messages are not "
                 "supported: ' ~ m.content) }}{% endif %}{{ m.content }}{% endfor %}",
    "syn_undefined_attr": "{{ undefined_var.attr }}",
}

CONVERSATIONS = {
    "user_only": [{"role": "user", "content": "Hello, how are you?"}],
    "system_user": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is gravity?"},
    ],
    "multi_turn": [
        {"role": "system", "content": "  You are a helpful assistant.  "},
        {"role": "user", "content": "Hi there!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke about cats."},
    ],
    "no_system_multi": [
        {"role": "user", "content": "First question?"},
        {"role": "assistant", "content": " An answer. "},
        {"role": "user", "content": "Second one"},
    ],
    "tricky_text": [
        {"role": "user", "content": "He said \"hi\" and it's 'fine'\nNew line\ttab \\ backslash"},
        {"role": "assistant", "content": "日本語 Ünïcödé émoji 😀 and {{ not a tag }} {% neither %}"},
        {"role": "user", "content": "  padded  \n\n"},
    ],
    "bad_alternation": [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
    ],
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "description": "Current time",
                                              "parameters": {"type": "object", "properties": {}}}}

TOOL_CONVERSATIONS = {
    "tool_calls": [
        {"role": "system", "content": "Use tools when needed."},
        {"role": "user", "content": "Weather in Paris and the time?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}},
            {"type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ]},
        {"role": "tool", "content": "{\"temp\": 21}"},
        {"role": "tool", "content": "12:00"},
        {"role": "assistant", "content": "It is 21°C in Paris and 12:00."},
        {"role": "user", "content": "Thanks"},
    ],
    "tool_call_with_text": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
        {"role": "tool", "content": "cold"},
    ],
}

REASONING_CONVERSATIONS = {
    "reasoning_field": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "Simple arithmetic."},
        {"role": "user", "content": "3+3?"},
        {"role": "assistant", "content": "6", "reasoning_content": "Again simple."},
    ],
    "think_in_content": [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "<think>\nInner thoughts.\n</think>\n\nBecause.", "tool_calls": None},
        {"role": "user", "content": "<tool_response>x</tool_response>"},
    ],
}


def render(template, messages, special_tokens, add_generation_prompt, tools=None, extra=None):
    """What apply_chat_template(tokenize=False) does, minus the tokenizer object."""
    kwargs = {**special_tokens, **(extra or {})}
    chat = _normalize_chat_messages(messages)
    rendered, _ = render_jinja_template(conversations=[chat], tools=tools, documents=None, chat_template=template,
                                        add_generation_prompt=add_generation_prompt, **kwargs)
    return rendered[0]


def case(name, template, messages, special_tokens, agp, tools=None, extra=None, tokenizer=None):
    entry = {"name": name, "template": template, "messages": messages, "tools": tools,
             "add_generation_prompt": agp, "special_tokens": special_tokens, "extra": extra or {}}
    try:
        entry["expected"] = render(TEMPLATES[template], messages, special_tokens, agp, tools, extra)
    except Exception as e:  # the template itself raised: the C++ side must raise too
        entry["error_type"] = type(e).__name__
        entry["error"] = str(e)
        return entry
    if tokenizer is not None:  # cross-check the shortcut against the real entry point
        real = tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=agp, tokenize=False,
                                             chat_template=TEMPLATES[template], **(extra or {}))
        assert real == entry["expected"], f"{name}: apply_chat_template differs"
    return entry


TEMPLATES = {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    args = ap.parse_args()
    tok_dir = os.path.join(args.shared, "testdata", "tokenizers")

    tokenizers = {n: AutoTokenizer.from_pretrained(os.path.join(tok_dir, n)) for n in ("llama2", "llama3", "qwen3")}
    for n in ("llama3", "qwen3"):
        with open(os.path.join(tok_dir, n, "tokenizer_config.json"), encoding="utf-8") as f:
            TEMPLATES[n] = json.load(f)["chat_template"]
    for fname in sorted(os.listdir(DATA)):
        if fname.endswith(".jinja"):
            with open(os.path.join(DATA, fname), encoding="utf-8") as f:
                TEMPLATES[fname[:-len(".jinja")]] = f.read()
    TEMPLATES.update(SYNTHETIC)

    smollm_tokens = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
                     "pad_token": "<|im_end|>"}
    plain = dict(CONVERSATIONS)
    cases = []
    real = {
        "llama3": (tokenizers["llama3"].special_tokens_map, tokenizers["llama3"]),
        "qwen3": (tokenizers["qwen3"].special_tokens_map, tokenizers["qwen3"]),
        "llama2_chat": (tokenizers["llama2"].special_tokens_map, tokenizers["llama2"]),
        "mistral_instruct_v01": (tokenizers["llama2"].special_tokens_map, tokenizers["llama2"]),
        "zephyr": (tokenizers["llama2"].special_tokens_map, tokenizers["llama2"]),
        "chatml_qwen2": (tokenizers["qwen3"].special_tokens_map, tokenizers["qwen3"]),
        "qwen2_5": (tokenizers["qwen3"].special_tokens_map, tokenizers["qwen3"]),
        "smollm2": (smollm_tokens, None),
    }
    for tname, (tokens, tok) in real.items():
        for cname, msgs in plain.items():
            for agp in (False, True):
                cases.append(case(f"{tname}/{cname}/agp={agp}", tname, msgs, tokens, agp, tokenizer=tok))
    for tname in ("qwen3", "qwen2_5"):
        tokens, tok = real[tname]
        for cname, msgs in TOOL_CONVERSATIONS.items():
            for tools in (None, [WEATHER_TOOL, TIME_TOOL]):
                cases.append(case(f"{tname}/{cname}/tools={tools is not None}", tname, msgs, tokens, True, tools,
                                  tokenizer=tok))
    tokens, tok = real["qwen3"]
    for cname, msgs in REASONING_CONVERSATIONS.items():
        for extra in ({}, {"enable_thinking": False}, {"enable_thinking": True}):
            cases.append(case(f"qwen3/{cname}/{extra}", "qwen3", msgs, tokens, True, extra=extra, tokenizer=tok))
    for tname in SYNTHETIC:
        for cname in ("user_only", "multi_turn", "tricky_text"):
            for agp in (False, True):
                extra = {"extra_var": "EV", "config": {"nested": {"value": 7}}}
                tools = [WEATHER_TOOL] if agp else None
                cases.append(case(f"{tname}/{cname}/agp={agp}", tname, CONVERSATIONS[cname], LLAMA2_TOKENS, agp,
                                  tools, extra))

    out = {"generator": "scripts/gen_template_goldens.py", "templates": TEMPLATES, "cases": cases}
    path = os.path.join(DATA, "goldens.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for c in cases if "error" in c)
    print(f"wrote {path}: {len(cases)} cases ({errors} expect an error), {len(TEMPLATES)} templates", file=sys.stderr)


if __name__ == "__main__":
    main()
