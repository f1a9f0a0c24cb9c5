--- Pure string helpers for accepting part of a suggestion.

local M = {}

--- The part of a suggestion still to insert: `suggestion` starts at the item's
--- range start, `typed` is the buffer text from there to the cursor.
---@param suggestion string
---@param typed string
---@return string
function M.remaining(suggestion, typed)
  if typed ~= "" and suggestion:sub(1, #typed) == typed then
    return suggestion:sub(#typed + 1)
  end
  return suggestion
end

--- The next word of `text`: leading blanks (and newlines) plus one run of word
--- characters, or one run of punctuation.
---@param text string
---@return string
function M.next_word(text)
  return text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text
end

--- The rest of the current line of `text`; when `text` starts with a line
--- break, the break and the whole next line.
---@param text string
---@return string
function M.next_line(text)
  local first = text:match("^[^\n]*")
  if first ~= "" then
    return first
  end
  return text:match("^\n[^\n]*") or text
end

--- Cuts `text` for an accept of `kind` ("all", "word" or "line").
---@param text string
---@param kind "all"|"word"|"line"
---@return string
function M.cut(text, kind)
  if kind == "word" then
    return M.next_word(text)
  elseif kind == "line" then
    return M.next_line(text)
  end
  return text
end

return M
