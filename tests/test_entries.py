"""One allow-list for every entry: a playlist, text or an image, whatever its name, is refused with the
same clear line by the CLI, the page's upload flow and the /count API (flowrep.video checks by content)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from app_support import page_tabs

from flowrep import cli


def bad_inputs(folder: Path, good: Path) -> dict[Path, str]:
    folder.mkdir(exist_ok=True)
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{good}\n#EXT-X-ENDLIST\n"
    files = {
        "list.m3u8": (playlist, "a playlist (m3u8)"),
        "playlist.mp4": (playlist, "a playlist (m3u8)"),
        "notes.txt": ("my workout notes\n" * 3, "text"),
        "notes.mp4": ("my workout notes\n", "text"),
        "photo.png": (b"\x89PNG\r\n\x1a\n" + bytes(64), "a PNG image"),
        "photo.mp4": (b"\xff\xd8\xff\xe0" + bytes(64), "a JPEG image"),
    }
    made = {}
    for name, (content, what) in files.items():
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        made[path] = f"this file is {what}, not a video we accept (mp4, mov, m4v, webm, mkv or avi)"
    return made


def test_playlists_text_and_images_are_refused_by_the_cli_the_upload_flow_and_count(
    tmp_path: Path, clips: dict[str, Path], capsys
) -> None:
    inputs = bad_inputs(tmp_path / "in", clips["good"])
    tabs = page_tabs(tmp_path / "work")
    try:
        for path, problem in inputs.items():
            assert cli.main(["count", str(path)]) != 0
            assert problem in capsys.readouterr().err, path.name
            statuses = [update[tabs.upload.ui.status] for update in tabs.upload.count_upload(str(path))]
            assert statuses[-1] == f"**Could not count `{path.name}`:** {problem}"
            with pytest.raises(gr.Error) as error:
                tabs.upload.count_json(str(path))
            assert str(error.value.message) == f"Could not count {path.name}: {problem}"
        assert not list((tmp_path / "work").glob("run-*/*"))  # no file left for a refused upload
    finally:
        tabs.upload.pool.close()
