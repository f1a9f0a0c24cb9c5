-- Minimal init for the Neovim end-to-end tests: only the codegen plugin, set up
-- from environment variables the pytest file sets.
vim.opt.runtimepath:prepend(assert(os.getenv("CODEGEN_NVIM_PLUGIN")))
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"
vim.lsp.log.set_level(vim.log.levels.WARN)

require("codegen").setup(vim.tbl_deep_extend("force", {
  server_path = assert(os.getenv("CODEGEN_LSP")),
  server_args = vim.split(os.getenv("CODEGEN_LSP_ARGS") or "", " ", { trimempty = true }),
  model = os.getenv("CODEGEN_MODEL") or "fake:return 42",
  inline = os.getenv("CODEGEN_INLINE") or "auto",
  debounce_ms = 50,
}, vim.json.decode(os.getenv("CODEGEN_SETUP") or "{}")))

-- CODEGEN_FAKE_ITEMS: the in-process fake server of fake_server.lua instead of codegen-lsp.
if os.getenv("CODEGEN_FAKE_ITEMS") then
  require("codegen").start()
  local here = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
  vim.lsp.config("codegen", { cmd = dofile(here .. "/fake_server.lua").cmd })
end

-- Read by the tests through `nvim --remote-expr`.
_G.codegen_e2e = {}

--- The ghost text on screen in the current buffer (virtual text and lines of the
--- native and the fallback namespaces), lines joined with "\n".
function _G.codegen_e2e.ghost()
  local namespaces = vim.api.nvim_get_namespaces()
  local lines = {}
  for _, name in ipairs({ "nvim.lsp.inline_completion", "codegen.ghost" }) do
    local ns = namespaces[name]
    if ns then
      for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
        local details = mark[4]
        local first = {}
        for _, chunk in ipairs(details.virt_text or {}) do
          if chunk[2] ~= "ComplHintMore" then
            table.insert(first, chunk[1])
          end
        end
        table.insert(lines, table.concat(first))
        for _, virt_line in ipairs(details.virt_lines or {}) do
          local parts = {}
          for _, chunk in ipairs(virt_line) do
            if chunk[2] ~= "ComplHintMore" then
              table.insert(parts, chunk[1])
            end
          end
          table.insert(lines, table.concat(parts))
        end
      end
    end
  end
  return table.concat(lines, "\n")
end

--- The codegen server's status answer ({} while no client is attached), as JSON.
function _G.codegen_e2e.status()
  local lsp = require("codegen.lsp")
  if not lsp.client(0) then
    return "{}"
  end
  local result = lsp.execute_sync("codegen.status", {}, 2000)
  return vim.json.encode(result or {})
end

function _G.codegen_e2e.buffer()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
end

--- What the fake server recorded (fake_server.lua), as JSON.
function _G.codegen_e2e.fake_events()
  return vim.json.encode(_G.codegen_fake and _G.codegen_fake.events or {})
end

--- The next-edit suggestion on screen in the current buffer (codegen.next_edit), as
--- JSON: the edit, the cursor ({row, col}, 0-based) and the extmarks that show it.
function _G.codegen_e2e.next_edit()
  local edit, plan = require("codegen.next_edit").pending(0)
  local ns = require("codegen.next_edit.view").namespace
  local marks = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local d = mark[4]
    local function texts(chunks)
      return vim.tbl_map(function(chunk) return chunk[1] end, chunks or {})
    end
    table.insert(marks, {
      row = mark[2],
      col = mark[3],
      end_row = d.end_row,
      end_col = d.end_col,
      hl_group = d.hl_group,
      virt_text = table.concat(texts(d.virt_text)),
      virt_text_pos = d.virt_text_pos,
      virt_lines = vim.tbl_map(function(l) return table.concat(texts(l)) end, d.virt_lines or {}),
      sign_text = d.sign_text and vim.trim(d.sign_text) or nil,
    })
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  return vim.json.encode({
    edit = edit or vim.NIL,
    plan = plan or vim.NIL,
    cursor = { cursor[1] - 1, cursor[2] },
    marks = marks,
  })
end
