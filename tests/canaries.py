"""A workspace of planted secrets ("canaries") that must never reach the API, for the privacy tests.

Every canary is obviously fake (it spells FLASHPRO or CANARY) but has the exact shape of a
real credential, so the same rules that catch real ones must catch it. Three kinds:

* *value* canaries: a secret value on a line of an ordinary file (settings.py,
  docker-compose.yml, a kube config, ...); the file may be sent, the value never;
* *block* canaries: a private key inside an ordinary file; that file is never sent;
* *path* canaries: a marker string in a file that is private by its path (`.env`,
  `.gitignore`d, `node_modules/`, ...); nothing of it is ever sent.

`CANARIES` lists them all (29 shapes); `write_workspace` plants them under a folder.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CANARIES",
    "FILES",
    "Canary",
    "secret_line",
    "write_workspace",
]


def _fill(stem: str, length: int, alphabet: str = "0123456789") -> str:
    """`stem` padded to `length` characters with a repeating alphabet."""
    pad = (alphabet * (length // len(alphabet) + 1))[: max(length - len(stem), 0)]
    return (stem + pad)[:length]


def _jwt(subject: str, signature: str) -> str:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': subject, 'iss': 'flashpro-canary'})}.{signature}"


def _pem(kind: str, marker: str) -> tuple[str, str]:
    """A fake PEM block of `kind` and one of its body lines (the canary searched for)."""
    body = [
        _fill("MIIEowIBAAKCAQEA" + marker, 64, "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/"),
        _fill("Q29udGVudE9mQUZha2VLZXk" + marker, 64, "ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210/+"),
        _fill("Rmxhc2hwcm9DYW5hcnlLZXk" + marker[::-1], 40, "kLmNoPqRsT0123"),
    ]
    text = f"-----BEGIN {kind} PRIVATE KEY-----\n" + "\n".join(body) + f"\n-----END {kind} PRIVATE KEY-----\n"
    return text, body[1]


@dataclass(frozen=True, slots=True)
class Canary:
    """One planted secret: where it lives, the text searched for in request bodies, its kind."""

    name: str
    path: str
    secret: str
    kind: str  # value / block / path


AWS_KEY_ID = "AKIAFLASHPROCANARY7Q"
AWS_SECRET = _fill("FlashproCanary/AwsSecret+Key", 40, "aB3dE5gH7jK9")
GITHUB_CLASSIC = "ghp_" + _fill("FlashproCanaryGhp", 36, "aZ09")
GITHUB_FINE = "github_pat_11" + _fill("FLASHPROCANARY", 20, "A1") + "_" + _fill("fineGrainedCanary", 59, "xY7")
GITLAB = "glpat-" + _fill("FlashproCanary", 20, "k9")
SLACK = "xoxb-112233445566-778899001122-" + _fill("FlashproCanarySlack", 24, "Qz8")
GOOGLE = "AIza" + _fill("SyFlashproCanaryGoogle", 35, "w4V")
STRIPE_SECRET = "sk_live_" + _fill("FlashproCanaryStripe", 48, "m2N")
STRIPE_RESTRICTED = "rk_live_" + _fill("FlashproCanaryRestricted", 48, "p5R")
OPENAI = "sk-proj-" + _fill("FlashproCanaryOpenAI_", 64, "t6U")
ANTHROPIC = "sk-ant-api03-" + _fill("FlashproCanaryAnthropic-", 93, "h8J") + "AA"
DEEPSEEK = "sk-" + _fill("f1a5b9c0de", 32, "0123456789abcdef")
JWT_SESSION = _jwt("flashpro-canary-session", _fill("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", 43, "a"))
JWT_BEARER = _jwt("flashpro-canary-bearer", _fill("FlashproCanaryBearerSig", 43, "B7c"))
SETTINGS_PASSWORD = "flashpro-canary-hunter2"
DJANGO_PASSWORD = "Flashpro-Canary-Db-Pass-2931"
KUBE_TOKEN = "fpcnry.0123456789abcdef"
POSTGRES_PASSWORD = "flashpro-canary-pg-8841"
RSA_KEY, RSA_BODY = _pem("RSA", "FlashproCanaryRsa")
OPENSSH_KEY, OPENSSH_BODY = _pem("OPENSSH", "FlashproCanarySsh")
ID_RSA_KEY, ID_RSA_BODY = _pem("RSA", "FlashproCanaryIdRsa")

FILES: dict[str, str] = {
    "app/cloud.py": (
        "import os\n\n\n"
        "def client():\n"
        "    return connect(region='eu-west-1')\n\n\n"
        f'AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"\n'
        f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n'
        f'GITHUB_TOKEN = "{GITHUB_CLASSIC}"\n'
        f'GITHUB_FINE_GRAINED = "{GITHUB_FINE}"\n'
        f'gitlab = Gitlab(url, private_token="{GITLAB}")\n'
        f'SLACK_BOT = "{SLACK}"\n'
        f'MAPS = "{GOOGLE}"\n'
        "\n\n"
        "def area(r):\n"
        "    return 3.14 * r * r\n"
    ),
    "app/billing.ts": (
        "import { Stripe } from 'stripe';\n\n"
        f"const stripe = new Stripe('{STRIPE_SECRET}');\n"
        f"const restricted = '{STRIPE_RESTRICTED}';\n"
        f"export const openai = new OpenAI({{ apiKey: '{OPENAI}' }});\n"
        f"export const claude = new Anthropic({{ apiKey: \"{ANTHROPIC}\" }});\n"
        f"const deepseek = '{DEEPSEEK}';\n"
        f"const session = '{JWT_SESSION}';\n"
        f"const headers = {{ Authorization: 'Bearer {JWT_BEARER}' }};\n\n"
        "export function total(items: number[]): number {\n"
        "  return items.reduce((a, b) => a + b, 0);\n"
        "}\n"
    ),
    "config/settings.py": (
        "DEBUG = False\n"
        f'password = "{SETTINGS_PASSWORD}"\n'
        "DATABASES = {\n"
        "    'default': {\n"
        "        'ENGINE': 'django.db.backends.postgresql',\n"
        f"        'PASSWORD': '{DJANGO_PASSWORD}',\n"
        "    }\n"
        "}\n"
        "user_password = input()\n"
        "token = get_token()\n"
    ),
    "deploy/kubeconfig": (
        "apiVersion: v1\nkind: Config\nusers:\n- name: deployer\n  user:\n"
        f"    token: {KUBE_TOKEN}\n"
        "contexts:\n- name: prod\n"
    ),
    "docker-compose.yml": (
        "services:\n  db:\n    image: postgres:16\n    environment:\n"
        "      POSTGRES_USER: app\n"
        f"      POSTGRES_PASSWORD: {POSTGRES_PASSWORD}\n"
        "    ports:\n      - '5432:5432'\n"
    ),
    "app/keys.py": f'SERVER_KEY = """\n{RSA_KEY}"""\n\n\ndef load():\n    return SERVER_KEY\n',
    "docs/notes.md": f"# Notes\n\nThe deploy key:\n\n```\n{OPENSSH_KEY}```\n",
    ".gitignore": "local_settings.py\nscratch/\n",
    "app/local_settings.py": "API_BASE = 'http://localhost'\nFLAG = 'flashpro-canary-gitignored-4417'\n",
    "scratch/notes.py": "def scratch():\n    return 'flashpro-canary-gitignored-dir-5120'\n",
    "sub/.gitignore": "*.local.py\n",
    "sub/conf.local.py": "VALUE = 'flashpro-canary-nested-gitignore-6633'\n",
    "node_modules/leftpad/index.js": "module.exports = 'flashpro-canary-node-modules-7702';\n",
    ".venv/lib/python3.11/site-packages/vendored.py": "VALUE = 'flashpro-canary-venv-8813'\n",
    ".env": "API_TOKEN=flashpro-canary-dotenv-1188\n",
    ".env.local": "API_TOKEN=flashpro-canary-dotenv-local-2299\n",
    "config/secrets.yaml": "stripe: flashpro-canary-secrets-yaml-3300\n",
    ".npmrc": "//registry.npmjs.org/:_authToken=npm_FlashproCanaryNpmrc4411\n",
    "id_rsa": ID_RSA_KEY,
    ".netrc": "machine api.example.com login me password flashpro-canary-netrc-5522\n",
    "credentials.json": '{"client_secret": "flashpro-canary-credentials-6644"}\n',
}

CANARIES: tuple[Canary, ...] = (
    Canary("aws access key id", "app/cloud.py", AWS_KEY_ID, "value"),
    Canary("aws secret access key", "app/cloud.py", AWS_SECRET, "value"),
    Canary("github classic token", "app/cloud.py", GITHUB_CLASSIC, "value"),
    Canary("github fine-grained token", "app/cloud.py", GITHUB_FINE, "value"),
    Canary("gitlab token", "app/cloud.py", GITLAB, "value"),
    Canary("slack bot token", "app/cloud.py", SLACK, "value"),
    Canary("google api key", "app/cloud.py", GOOGLE, "value"),
    Canary("stripe secret key", "app/billing.ts", STRIPE_SECRET, "value"),
    Canary("stripe restricted key", "app/billing.ts", STRIPE_RESTRICTED, "value"),
    Canary("openai project key", "app/billing.ts", OPENAI, "value"),
    Canary("anthropic key", "app/billing.ts", ANTHROPIC, "value"),
    Canary("deepseek key", "app/billing.ts", DEEPSEEK, "value"),
    Canary("jwt", "app/billing.ts", JWT_SESSION, "value"),
    Canary("jwt bearer", "app/billing.ts", JWT_BEARER, "value"),
    Canary("password in settings.py", "config/settings.py", SETTINGS_PASSWORD, "value"),
    Canary("django database password", "config/settings.py", DJANGO_PASSWORD, "value"),
    Canary("kube config token", "deploy/kubeconfig", KUBE_TOKEN, "value"),
    Canary("POSTGRES_PASSWORD", "docker-compose.yml", POSTGRES_PASSWORD, "value"),
    Canary("pem rsa key", "app/keys.py", RSA_BODY, "block"),
    Canary("pem openssh key", "docs/notes.md", OPENSSH_BODY, "block"),
    Canary("gitignored file", "app/local_settings.py", "flashpro-canary-gitignored-4417", "path"),
    Canary("gitignored folder", "scratch/notes.py", "flashpro-canary-gitignored-dir-5120", "path"),
    Canary("nested gitignore", "sub/conf.local.py", "flashpro-canary-nested-gitignore-6633", "path"),
    Canary("node_modules", "node_modules/leftpad/index.js", "flashpro-canary-node-modules-7702", "path"),
    Canary(".venv", ".venv/lib/python3.11/site-packages/vendored.py", "flashpro-canary-venv-8813", "path"),
    Canary(".env", ".env", "flashpro-canary-dotenv-1188", "path"),
    Canary(".env.local", ".env.local", "flashpro-canary-dotenv-local-2299", "path"),
    Canary("config/secrets.yaml", "config/secrets.yaml", "flashpro-canary-secrets-yaml-3300", "path"),
    Canary(".npmrc", ".npmrc", "npm_FlashproCanaryNpmrc4411", "path"),
    Canary("id_rsa", "id_rsa", ID_RSA_BODY, "path"),
    Canary(".netrc", ".netrc", "flashpro-canary-netrc-5522", "path"),
    Canary("credentials.json", "credentials.json", "flashpro-canary-credentials-6644", "path"),
)


def secret_line(canary: Canary) -> tuple[int, str]:
    """(0-based line number, line text) of the line holding a value canary in its file."""
    for number, line in enumerate(FILES[canary.path].split("\n")):
        if canary.secret in line:
            return number, line
    raise LookupError(canary.name)


def write_workspace(root: Path) -> None:
    """Plant every file of `FILES` under `root` (a `.git` folder makes it a repository)."""
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
