// What a tool call is about, as plain text: the command for Bash, the path and a diff
// preview for edits, the path or pattern for reads, else the input as JSON.

const MAX_LINES = 20;
const MAX_CHARS = 4000;

function clip(text) {
  const lines = String(text ?? '').split('\n');
  let shown = lines.slice(0, MAX_LINES).join('\n');
  if (lines.length > MAX_LINES) shown += `\n… ${lines.length - MAX_LINES} more lines`;
  return shown.length > MAX_CHARS ? `${shown.slice(0, MAX_CHARS)}…` : shown;
}

const prefixed = (text, mark) => String(text ?? '').split('\n').map((line) => `${mark} ${line}`).join('\n');

function diff(oldText, newText) {
  return clip(`${prefixed(oldText, '-')}\n${prefixed(newText, '+')}`);
}

// {subject, body, kind}: subject is one line (the command or the path), body the rest.
export function toolPreview(toolName, input) {
  const data = input && typeof input === 'object' ? input : {};
  switch (toolName) {
    case 'Bash':
      return { subject: String(data.command ?? ''), body: data.description ? String(data.description) : '', kind: 'command' };
    case 'Write':
      return { subject: String(data.file_path ?? ''), body: clip(data.content), kind: 'file' };
    case 'Edit':
      return { subject: String(data.file_path ?? ''), body: diff(data.old_string, data.new_string), kind: 'diff' };
    case 'MultiEdit':
      return {
        subject: String(data.file_path ?? ''),
        body: clip((data.edits || []).map((e) => diff(e.old_string, e.new_string)).join('\n…\n')),
        kind: 'diff',
      };
    case 'NotebookEdit':
      return { subject: String(data.notebook_path ?? ''), body: clip(data.new_source), kind: 'file' };
    case 'Read':
      return { subject: String(data.file_path ?? ''), body: '', kind: 'file' };
    case 'Glob':
    case 'Grep':
      return { subject: String(data.pattern ?? ''), body: data.path ? `in ${data.path}` : '', kind: 'pattern' };
    case 'WebFetch':
      return { subject: String(data.url ?? ''), body: data.prompt ? clip(data.prompt) : '', kind: 'url' };
    default:
      return { subject: '', body: clip(JSON.stringify(data, null, 2)), kind: 'json' };
  }
}

// The rules "Always allow" would add, as one line each (e.g. "allow Bash(echo hi *)").
export function suggestionLines(suggestions) {
  const lines = [];
  for (const s of suggestions || []) {
    if (s && s.type === 'addRules' && Array.isArray(s.rules)) {
      for (const rule of s.rules) {
        lines.push(`${s.behavior || 'allow'} ${rule.toolName}${rule.ruleContent ? `(${rule.ruleContent})` : ''}`);
      }
    } else if (s && s.type === 'addDirectories' && Array.isArray(s.directories)) {
      lines.push(`add directories ${s.directories.join(', ')}`);
    } else if (s && s.type === 'setMode') {
      lines.push(`switch to ${s.mode} mode`);
    } else if (s && s.type) {
      lines.push(String(s.type));
    }
  }
  return lines;
}
