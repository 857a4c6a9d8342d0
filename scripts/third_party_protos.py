"""Copies the googleapis protos we import from the installed googleapis-common-protos package.

They are build inputs, never committed: `build/` is ignored.
"""

import pathlib
import shutil
import sys

import google.api
import google.rpc

NEEDED = {
    google.api: ("annotations.proto", "field_behavior.proto", "http.proto", "httpbody.proto"),
    google.rpc: ("status.proto", "error_details.proto", "code.proto"),
}


def main(target: str) -> None:
    for package, names in NEEDED.items():
        source_dir = pathlib.Path(package.__path__[0])
        dest_dir = pathlib.Path(target, "google", source_dir.name)
        dest_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(source_dir / name, dest_dir / name)


if __name__ == "__main__":
    main(sys.argv[1])
