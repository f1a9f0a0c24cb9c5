--- Next-edit suggestions as data: which edit of an answer is usable, and where it goes in
--- the buffer (byte positions) and what it shows. Pure: it reads only the lines it is given.

local lsp = require("codegen.lsp")

local M = {}

---@class codegen.NextEdit
---@field range lsp.Range
---@field text string
---@field textDocument { uri: string, version: integer }
---@field command lsp.Command?

---@class codegen.NextEditPlan
---@field row integer          0-based first line of the replaced range
---@field col integer          0-based byte column where it starts
---@field end_row integer
---@field end_col integer      byte column where it ends (exclusive)
---@field lines string[]       the new text, split at line breaks
---@field result string[]      the lines rows row..end_row become once the edit is applied
---@field inline boolean       the result is one line: the new text fits after the replaced range
---@field cursor integer[]     {row, col} (0-based, bytes) at the end of the new text once applied

--- The first edit of a `textDocument/copilotInlineEdit` answer that applies to the buffer
--- as it is: the document `uri` at `version` (the version the client last sent, which the
--- server echoes). An answer to an older version, or to another document, gives nil.
---@param result any
---@param uri string
---@param version integer
---@return codegen.NextEdit?
function M.first_usable(result, uri, version)
  local edits = type(result) == "table" and result.edits or nil
  local edit = type(edits) == "table" and edits[1] or nil
  if type(edit) ~= "table" or type(edit.range) ~= "table" or type(edit.text) ~= "string" then
    return nil
  end
  local doc = edit.textDocument
  if type(doc) ~= "table" or doc.uri ~= uri or doc.version ~= version then
    return nil
  end
  return edit
end

--- The suggestion id of an edit (its accept command's first argument), or nil.
---@param edit codegen.NextEdit
---@return string?
function M.id(edit)
  local args = type(edit.command) == "table" and edit.command.arguments or nil
  return type(args) == "table" and type(args[1]) == "string" and args[1] or nil
end

--- Where `edit` goes in `lines` (the buffer's lines, 1-based list) and what it shows;
--- nil when its range is outside the buffer.
---@param lines string[]
---@param edit codegen.NextEdit
---@param encoding string  the client's offset encoding
---@return codegen.NextEditPlan?
function M.plan(lines, edit, encoding)
  local s, e = edit.range.start, edit.range["end"]
  local first, last = lines[s.line + 1], lines[e.line + 1]
  if not first or not last or e.line < s.line then
    return nil
  end
  local col = lsp.byte_index(first, math.min(s.character, lsp.char_index(first, #first, encoding)), encoding)
  local end_col = lsp.byte_index(last, math.min(e.character, lsp.char_index(last, #last, encoding)), encoding)
  if e.line == s.line and end_col < col then
    return nil
  end
  local new = vim.split(edit.text, "\n", { plain = true })
  local joined = first:sub(1, col) .. edit.text .. last:sub(end_col + 1)
  local result = vim.split(joined, "\n", { plain = true })
  local cursor_row = s.line + #new - 1
  local cursor_col = (#new == 1 and col or 0) + #new[#new]
  return {
    row = s.line,
    col = col,
    end_row = e.line,
    end_col = end_col,
    lines = new,
    result = result,
    inline = s.line == e.line and #new == 1,
    cursor = { cursor_row, cursor_col },
  }
end

--- Whether the cursor on `row` (0-based) is at the edit: on one of the lines it replaces.
---@param plan codegen.NextEditPlan
---@param row integer
---@return boolean
function M.at(plan, row)
  return row >= plan.row and row <= plan.end_row
end

return M
