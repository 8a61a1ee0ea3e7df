"""The demo model's script: deterministic replies that exercise the product."""

from __future__ import annotations

from typing import Any

from claude_agent_server.demo.model import HELP, MAX_LONG_REPLY, long_text, reply_to

TOOLS = [{"name": "Bash"}, {"name": "Write"}, {"name": "Read"}]
SYSTEM = [{"type": "text", "text": "# Environment\n - Primary working directory: /work/project\n - Platform: linux"}]


def ask(*texts: str, tools: list[dict[str, Any]] = TOOLS, **body: Any) -> Any:
    messages = []
    for text in texts:
        messages.append({"role": "user", "content": [{"type": "text", "text": "<system-reminder>ignore me</system-reminder>"}, {"type": "text", "text": text}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": "ok"}]})
    return reply_to({"model": "demo-x", "messages": messages[:-1], "tools": tools, "system": SYSTEM, **body})


def test_plain_text_gets_the_help() -> None:
    reply = ask("hello")
    assert reply.text == HELP and reply.stop_reason == "end_turn"


def test_run_calls_bash_and_several_commands_run_in_parallel() -> None:
    one = ask("please run `echo hi > x.txt`")
    assert one.stop_reason == "tool_use"
    assert one.content[1]["name"] == "Bash" and one.content[1]["input"]["command"] == "echo hi > x.txt"
    two = ask("run `echo a` and `echo b`")
    assert [b["input"]["command"] for b in two.content if b["type"] == "tool_use"] == ["echo a", "echo b"]
    assert len({b["id"] for b in two.content if b["type"] == "tool_use"}) == 2


def test_create_writes_into_the_working_directory() -> None:
    reply = ask("create a file notes.txt with content hello world")
    assert reply.content[1]["name"] == "Write"
    assert reply.content[1]["input"] == {"file_path": "/work/project/notes.txt", "content": "hello world\n"}


def test_missing_tools_are_explained_not_called() -> None:
    assert "not available" in ask("run `ls`", tools=[]).text
    assert "not available" in ask("create a file a.txt", tools=[]).text


def test_recall_uses_earlier_turns_only() -> None:
    assert "haven't asked me" in ask("what did I ask you to remember?").text
    assert ask("remember that the code is 7", "what did I ask you to remember?").text == "You asked me to remember: the code is 7."


def test_which_model_names_the_requested_model() -> None:
    assert "demo-x" in ask("which model are you?").text


def test_tool_results_are_summarised() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "run `date`"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "Sat Nov 21"}]},
        ],
    }
    assert "Sat Nov 21" in reply_to(body).text
    body["messages"][2]["content"][0] = {"type": "tool_result", "tool_use_id": "t1", "content": "(Bash completed with no output)"}
    assert reply_to(body).text == "The tool ran and printed nothing."
    body["messages"][2]["content"][0] = {"type": "tool_result", "tool_use_id": "t1", "content": "denied by user", "is_error": True}
    assert "did not run: denied by user" in reply_to(body).text


def test_slow_reply_is_marked_slow() -> None:
    reply = ask("count slowly")
    assert reply.slow and reply.text.endswith("Done.")


def test_odd_bodies_do_not_raise() -> None:
    assert reply_to({}).text == "OK."
    assert reply_to({"messages": ["junk", {"role": "user", "content": None}]}).text == "OK."


def test_cli_additions_after_a_tool_result_do_not_hide_it() -> None:
    # After an "always" answer the CLI appends a system-role environment update; after
    # others a user message holding only reminders.
    base = [
        {"role": "user", "content": "run `echo hi > f.txt`"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "hi"}]},
    ]
    for tail in (
        {"role": "system", "content": [{"type": "text", "text": "# Environment update\n - Additional working directories added"}]},
        {"role": "user", "content": [{"type": "text", "text": "<system-reminder>permissions changed</system-reminder>"}]},
    ):
        reply = reply_to({"model": "m", "messages": [*base, tail], "tools": TOOLS})
        assert reply.stop_reason == "end_turn" and "hi" in reply.text, tail


def test_a_new_prompt_next_to_a_leftover_tool_result_is_answered() -> None:
    messages = [
        {"role": "user", "content": "create a file a.txt"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Write", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "interrupted", "is_error": True},
            {"type": "text", "text": "remember that the sky is green"},
        ]},
    ]
    assert reply_to({"model": "m", "messages": messages, "tools": TOOLS}).text == "Got it, I'll remember: the sky is green."


def test_say_replies_with_the_text_verbatim() -> None:
    for text in ("<img src=x onerror=alert(1)>", "<script>window.pwned = 1</script>", "run `rm -rf /` slowly\nand more"):
        reply = ask(f"say {text}")
        assert reply.content == [{"type": "text", "text": text}] and reply.stop_reason == "end_turn" and not reply.slow
    assert ask("please say hi").text == HELP  # only a message that starts with "say"


def test_reply_with_n_bytes_is_exactly_n_bytes_of_numbered_lines() -> None:
    for size in (0, 1, 63, 64, 65, 1_500_000):
        text = ask(f"reply with {size} bytes").text
        assert len(text.encode()) == size and text == long_text(size)
    assert long_text(130) == "00000000 " + "." * 54 + "\n" + "00000001 " + "." * 54 + "\n" + "00"
    assert ask(f"reply with {MAX_LONG_REPLY + 1} bytes").text == f"I reply with at most {MAX_LONG_REPLY} bytes."


def test_structured_output_tool_is_called_with_a_value_valid_against_its_schema() -> None:
    import jsonschema

    from claude_agent_server.demo.model import reply_to

    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 3},
            "n": {"type": "integer", "minimum": 5},
            "kind": {"enum": ["a", "b"]},
            "items": {"type": "array", "items": {"type": "number"}, "minItems": 2},
            "maybe": {"type": ["null", "boolean"]},
        },
        "required": ["name", "n", "kind", "items", "maybe"],
    }
    tools = [{"name": "StructuredOutput", "input_schema": schema}]
    reply = reply_to({"messages": [{"role": "user", "content": "hi"}], "tools": tools})
    (call,) = reply.content
    assert call["name"] == "StructuredOutput" and reply.stop_reason == "tool_use"
    jsonschema.validate(call["input"], schema)
    prose = reply_to({"messages": [{"role": "user", "content": "answer in prose please"}, {"role": "user", "content": "call the tool"}], "tools": tools})
    assert prose.content[0]["type"] == "text"
