"""Write docs/marts.md, the marts' data dictionary, from their YAML docs.

The YAML (models/marts/_*.yml) is the one source: dbt enforces it
as the marts' contracts and `dbt docs generate` reads it too. Run this after
changing it; tests/test_data_dictionary.py fails while docs/marts.md is stale.

    .venv/bin/python scripts/data_dictionary.py
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / 'models' / 'marts').glob('_*.yml'))
TARGET = ROOT / 'docs' / 'marts.md'

HEADER = """# Marts: data dictionary

Generated from `models/marts/_*.yml` by `scripts/data_dictionary.py`;
do not edit by hand. The marts live in database `llm`; every column below is
enforced by the model's contract (name and type). Token counts are NULL where
unknown, never 0; costs are NULL where no price or no usage is known.
"""


def _text(value) -> str:
    return ' '.join(str(value or '').split()).replace('|', '\\|')


def render(models: list) -> str:
    parts = [HEADER]
    parts.append('| mart | what one row is |\n|---|---|')
    parts += [f"| [`{m['name']}`](#{m['name']}) | {_text(m.get('description')).split('. ')[0]}. |" for m in models]
    for model in models:
        parts.append(f"\n## {model['name']}\n\n{_text(model.get('description'))}\n")
        parts.append('| column | type | description |\n|---|---|---|')
        for column in model.get('columns', []):
            parts.append(f"| `{column['name']}` | {_text(column.get('data_type'))} | "
                         f"{_text(column.get('description'))} |")
    return '\n'.join(parts) + '\n'


def build() -> str:
    models = [m for path in SOURCES for m in (yaml.safe_load(path.read_text()) or {}).get('models', [])]
    return render(models)


if __name__ == '__main__':
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(build())
    sys.stdout.write(f'wrote {TARGET.relative_to(ROOT)}\n')
