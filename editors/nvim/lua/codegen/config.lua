--- Options of the codegen plugin: defaults, validation and merging. Pure.

---@alias codegen.InlineMode "auto"|"native"|"fallback"

---@class codegen.Keymaps
---@field accept string|false       accept the whole suggestion (falls back to the key itself)
---@field accept_word string|false  accept the next word of it
---@field accept_line string|false  accept the rest of its first line
---@field next string|false         show the next candidate
---@field prev string|false         show the previous candidate
---@field dismiss string|false      hide the suggestion

---@class codegen.NextEditConfig
---@field enabled boolean           ask for next-edit suggestions in attached buffers
---@field debounce_ms integer       pause after a change or a cursor move before asking
---@field accept string|false       normal mode: jump to the suggested edit, then apply it
---@field dismiss string|false      normal mode: hide it (reported to the server as rejected)
---@field options table<string, any>  server nextEdit options, sent as given (camelCase, e.g. { linesAfter = 8 })

---@class codegen.Config
---@field server_path string        the codegen-lsp executable (used when `python` is nil)
---@field python string?            a Python with codegen installed: runs `python -m codegen.server.cli`
---@field server_args string[]      extra server arguments (after --stdio)
---@field filetypes string[]        filetypes the server attaches to
---@field root_markers string[]     files that mark a project root
---@field model string              Hugging Face id, local directory, builtin:tiny, or a server URL (http://HOST:PORT/v1)
---@field served_model string?      with a server URL: the model to request (nil: the first it lists)
---@field adapter string?           LoRA adapter directory; with a server URL, the name of a served LoRA
---@field fim_format string?        fill-in-the-middle format (nil: detected from the tokenizer)
---@field quantize "none"|"8bit"|"4bit"
---@field device "auto"|"cpu"|"cuda"
---@field completion table<string, any>  server completion options, sent as given (camelCase)
---@field acceptance_log table<string, any>  server acceptance-log options, sent as given (camelCase, e.g. { enabled = true })
---@field inline codegen.InlineMode  "auto": native vim.lsp.inline_completion on 0.12+, else extmarks
---@field debounce_ms integer       wait after typing before asking (extmark fallback only)
---@field keymaps codegen.Keymaps   insert-mode keys, set in buffers the server attaches to
---@field next_edit codegen.NextEditConfig  next-edit suggestions (see codegen.next_edit)

local M = {}

---@type codegen.Config
M.defaults = {
  server_path = "codegen-lsp",
  python = nil,
  server_args = {},
  filetypes = { "python", "javascript", "typescript", "go", "rust" },
  root_markers = { ".git", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml" },
  model = "builtin:tiny",
  served_model = nil,
  adapter = nil,
  fim_format = nil,
  quantize = "none",
  device = "auto",
  completion = {},
  acceptance_log = {},
  inline = "auto",
  debounce_ms = 150,
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-Right>",
    accept_line = "<M-C-Right>",
    next = "<M-]>",
    prev = "<M-[>",
    dismiss = "<C-]>",
  },
  next_edit = {
    enabled = true,
    debounce_ms = 300,
    accept = "<Tab>",
    dismiss = "<Esc>",
    options = {},
  },
}

local CHOICES = {
  quantize = { "none", "8bit", "4bit" },
  device = { "auto", "cpu", "cuda" },
  inline = { "auto", "native", "fallback" },
}

--- Merges `opts` over `base` (default: the defaults). Invalid values are replaced
--- by the base value and described in the returned warnings; it never errors.
---@param opts table?
---@param base codegen.Config?
---@return codegen.Config config, string[] warnings
function M.merge(opts, base)
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(base or M.defaults), opts or {})
  local warnings = {}
  for key, allowed in pairs(CHOICES) do
    if not vim.tbl_contains(allowed, merged[key]) then
      table.insert(warnings, ("codegen: %s must be one of %s; using %q"):format(
        key, table.concat(allowed, ", "), (base or M.defaults)[key]))
      merged[key] = (base or M.defaults)[key]
    end
  end
  for key, value in pairs(M.defaults) do
    if merged[key] ~= nil and value ~= nil and type(merged[key]) ~= type(value) then
      table.insert(warnings, ("codegen: %s must be a %s; using the default"):format(key, type(value)))
      merged[key] = vim.deepcopy(value)
    end
  end
  local next_edit, defaults = merged.next_edit, M.defaults.next_edit
  for key, value in pairs(defaults) do
    local ok = type(next_edit[key]) == type(value)
      or ((key == "accept" or key == "dismiss") and next_edit[key] == false)
    if not ok then
      table.insert(warnings, ("codegen: next_edit.%s must be a %s; using the default"):format(key, type(value)))
      next_edit[key] = vim.deepcopy(value)
    end
  end
  return merged, warnings
end

--- The command that starts the server over stdio.
---@param config codegen.Config
---@return string[]
function M.cmd(config)
  local head = config.python and { config.python, "-m", "codegen.server.cli" } or { config.server_path }
  return vim.list_extend(vim.list_extend(head, { "--stdio" }), config.server_args)
end

--- The `codegen` settings section in the server's wire shape, sent as
--- initializationOptions and answered to workspace/configuration.
---@param config codegen.Config
---@return table
function M.server_settings(config)
  local settings = {
    model = {
      model = config.model,
      adapter = config.adapter or vim.NIL,
      quantize = config.quantize,
      device = config.device,
      servedModel = config.served_model,
      fimFormat = config.fim_format,
    },
    -- An empty Lua table would be sent as a JSON array.
    completion = next(config.completion) and vim.deepcopy(config.completion) or vim.empty_dict(),
  }
  if next(config.acceptance_log) then
    settings.acceptanceLog = vim.deepcopy(config.acceptance_log)
  end
  if next(config.next_edit.options) then
    settings.nextEdit = vim.deepcopy(config.next_edit.options)
  end
  return settings
end

--- Whether to use Neovim's own inline completion (0.12+) rather than extmarks.
---@param config codegen.Config
---@return boolean
function M.use_native(config)
  if config.inline == "fallback" then
    return false
  end
  return vim.lsp.inline_completion ~= nil
end

return M
