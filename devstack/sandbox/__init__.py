"""A faithful HTTP sandbox of KTH API Store's ppurio SMS and KakaoTalk AlimTalk APIs (closed in 2022).

    from devstack.sandbox import Sandbox, SandboxConfig
    sb = Sandbox(SandboxConfig(api_key="k", client_id="c")).start()
    ... sb.url, sb.messages(), sb.set_faults(...), sb.stop()

`python -m devstack.sandbox` runs it standalone.
"""

from .config import SandboxConfig
from .server import Sandbox

__all__ = ["Sandbox", "SandboxConfig"]
