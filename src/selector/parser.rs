//! Recursive-descent parser from tokens to the AST, with the static checks JMS asks for.
//!
//! One function per precedence level (see the grammar in the module doc). Two limits keep
//! both this parser and the evaluator off deep recursion: `depth` counts the nested
//! constructs the parser is inside (parentheses, `NOT`, unary signs), and every node
//! carries its height, which may not exceed [`MAX_DEPTH`] either (a long `a+a+a+…`
//! chain is parsed by a loop but would make a deep tree). `AND`/`OR` chains are
//! flattened into one n-ary node, so a long list of alternatives stays shallow.

use super::ast::{ArithOp, CmpOp, Ident, Literal, Node, Pattern};
use super::lexer::{Keyword, Token, TokenKind};
use super::{SelectorError, MAX_DEPTH};

/// What the parser knows about an expression's type before any message is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Bool,
    Num,
    Str,
    /// An identifier: its type depends on the message.
    Any,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Num => "a number",
            Ty::Str => "a string",
            Ty::Any => "an identifier",
        }
    }
}

/// A parsed expression with what the checks need.
struct Expr {
    node: Node,
    ty: Ty,
    /// Character offset where the expression starts.
    pos: usize,
    height: usize,
}

pub(crate) struct Parser {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
}

pub(crate) fn parse(tokens: Vec<Token>) -> Result<Node, SelectorError> {
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
    };
    let expr = parser.or_expr()?;
    let token = parser.peek();
    if token.kind != TokenKind::Eof {
        return Err(parser.unexpected(token, "an operator or the end of the selector"));
    }
    check_boolean(&expr, "the selector")?;
    Ok(expr.node)
}

fn check_boolean(expr: &Expr, context: &str) -> Result<(), SelectorError> {
    match expr.ty {
        Ty::Bool | Ty::Any => Ok(()),
        ty => Err(SelectorError::new(
            expr.pos,
            format!("{context} must be a boolean expression, not {}", ty.name()),
        )),
    }
}

fn check_numeric(expr: &Expr, context: &str) -> Result<(), SelectorError> {
    match expr.ty {
        Ty::Num | Ty::Any => Ok(()),
        ty => Err(SelectorError::new(
            expr.pos,
            format!("{context} needs a number, not {}", ty.name()),
        )),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        // The lexer always ends the list with Eof, and `bump` never moves past it.
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.next += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        self.peek().kind == TokenKind::Keyword(keyword)
    }

    /// `NOT` only when it is followed by `BETWEEN`, `IN` or `LIKE` (a negated predicate).
    fn at_negated_predicate(&self) -> bool {
        self.at_keyword(Keyword::Not)
            && matches!(
                self.tokens.get(self.next + 1).map(|t| &t.kind),
                Some(TokenKind::Keyword(
                    Keyword::Between | Keyword::In | Keyword::Like
                ))
            )
    }

    fn unexpected(&self, token: &Token, expected: &str) -> SelectorError {
        SelectorError::new(
            token.pos,
            format!("unexpected {}, expected {expected}", token.describe()),
        )
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> Result<Token, SelectorError> {
        let token = self.bump();
        if token.kind == kind {
            Ok(token)
        } else {
            Err(self.unexpected(&token, expected))
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), SelectorError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep(pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn or_expr(&mut self) -> Result<Expr, SelectorError> {
        let first = self.and_expr()?;
        if !self.at_keyword(Keyword::Or) {
            return Ok(first);
        }
        check_boolean(&first, "an operand of OR")?;
        let (pos, mut height) = (first.pos, first.height);
        let mut operands = vec![first.node];
        while self.at_keyword(Keyword::Or) {
            self.bump();
            let next = self.and_expr()?;
            check_boolean(&next, "an operand of OR")?;
            height = height.max(next.height);
            operands.push(next.node);
        }
        node(Node::Or(operands), Ty::Bool, pos, height + 1)
    }

    fn and_expr(&mut self) -> Result<Expr, SelectorError> {
        let first = self.not_expr()?;
        if !self.at_keyword(Keyword::And) {
            return Ok(first);
        }
        check_boolean(&first, "an operand of AND")?;
        let (pos, mut height) = (first.pos, first.height);
        let mut operands = vec![first.node];
        while self.at_keyword(Keyword::And) {
            self.bump();
            let next = self.not_expr()?;
            check_boolean(&next, "an operand of AND")?;
            height = height.max(next.height);
            operands.push(next.node);
        }
        node(Node::And(operands), Ty::Bool, pos, height + 1)
    }

    fn not_expr(&mut self) -> Result<Expr, SelectorError> {
        if !self.at_keyword(Keyword::Not) {
            return self.predicate();
        }
        let not = self.bump();
        self.enter(not.pos)?;
        let operand = self.not_expr()?;
        self.leave();
        check_boolean(&operand, "the operand of NOT")?;
        node(
            Node::Not(Box::new(operand.node)),
            Ty::Bool,
            not.pos,
            operand.height + 1,
        )
    }

    /// A value, optionally followed by one comparison, BETWEEN, IN, LIKE or IS NULL.
    /// Comparisons do not chain (`a = b = c` is an error), as in SQL.
    fn predicate(&mut self) -> Result<Expr, SelectorError> {
        let left = self.additive()?;
        let op_token = self.peek().clone();
        let cmp = match op_token.kind {
            TokenKind::Eq => Some(CmpOp::Eq),
            TokenKind::Ne => Some(CmpOp::Ne),
            TokenKind::Lt => Some(CmpOp::Lt),
            TokenKind::Le => Some(CmpOp::Le),
            TokenKind::Gt => Some(CmpOp::Gt),
            TokenKind::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = cmp {
            self.bump();
            let right = self.additive()?;
            if op.is_ordering() {
                // JMS restricts strings and booleans to = and <>.
                for side in [&left, &right] {
                    if matches!(side.ty, Ty::Str | Ty::Bool) {
                        return Err(SelectorError::new(
                            side.pos,
                            format!(
                                "'{}' cannot compare {}: strings and booleans allow only = and <>",
                                op_token.text,
                                side.ty.name()
                            ),
                        ));
                    }
                }
            }
            let height = left.height.max(right.height) + 1;
            return node(
                Node::Cmp(op, Box::new(left.node), Box::new(right.node)),
                Ty::Bool,
                left.pos,
                height,
            );
        }

        let negated = self.at_negated_predicate();
        if negated {
            self.bump();
        }
        let keyword = match self.peek().kind {
            TokenKind::Keyword(k) => Some(k),
            _ => None,
        };
        match keyword {
            Some(Keyword::Between) => {
                self.bump();
                check_numeric(&left, "BETWEEN")?;
                let low = self.additive()?;
                check_numeric(&low, "BETWEEN")?;
                self.expect(TokenKind::Keyword(Keyword::And), "AND in BETWEEN … AND …")?;
                let high = self.additive()?;
                check_numeric(&high, "BETWEEN")?;
                let height = left.height.max(low.height).max(high.height) + 1;
                node(
                    Node::Between {
                        negated,
                        value: Box::new(left.node),
                        low: Box::new(low.node),
                        high: Box::new(high.node),
                    },
                    Ty::Bool,
                    left.pos,
                    height,
                )
            }
            Some(Keyword::In) => {
                let in_token = self.bump();
                let ident = identifier_operand(left, &in_token)?;
                self.expect(TokenKind::LParen, "'(' after IN")?;
                let mut list = Vec::new();
                loop {
                    let token = self.bump();
                    match token.kind {
                        TokenKind::Str(value) => list.push(value),
                        _ => return Err(self.unexpected(&token, "a string literal in the IN list")),
                    }
                    let token = self.bump();
                    match token.kind {
                        TokenKind::Comma => continue,
                        TokenKind::RParen => break,
                        _ => return Err(self.unexpected(&token, "',' or ')' in the IN list")),
                    }
                }
                node(
                    Node::In {
                        negated,
                        ident,
                        list,
                    },
                    Ty::Bool,
                    in_token.pos,
                    1,
                )
            }
            Some(Keyword::Like) => {
                let like = self.bump();
                let ident = identifier_operand(left, &like)?;
                let token = self.bump();
                let TokenKind::Str(pattern_text) = token.kind.clone() else {
                    return Err(self.unexpected(&token, "a string literal after LIKE"));
                };
                let mut escape = None;
                if self.at_keyword(Keyword::Escape) {
                    self.bump();
                    let token = self.bump();
                    let TokenKind::Str(text) = &token.kind else {
                        return Err(self.unexpected(&token, "a string literal after ESCAPE"));
                    };
                    let mut chars = text.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => escape = Some(c),
                        _ => {
                            return Err(SelectorError::new(
                                token.pos,
                                format!(
                                    "the ESCAPE string {} must be exactly one character",
                                    token.describe()
                                ),
                            ))
                        }
                    }
                }
                let pattern = Pattern::compile(&pattern_text, escape).map_err(|message| {
                    SelectorError::new(token.pos, format!("{message} in {}", token.describe()))
                })?;
                node(
                    Node::Like {
                        negated,
                        ident,
                        pattern,
                    },
                    Ty::Bool,
                    like.pos,
                    1,
                )
            }
            Some(Keyword::Is) if !negated => {
                self.bump();
                let not = self.at_keyword(Keyword::Not);
                if not {
                    self.bump();
                }
                self.expect(TokenKind::Keyword(Keyword::Null), "NULL after IS")?;
                if left.ty == Ty::Bool {
                    // `(a = 1) IS NULL` would ask about UNKNOWN, which JMS has no syntax for.
                    return Err(SelectorError::new(
                        left.pos,
                        "IS NULL needs a value, not a boolean expression".to_string(),
                    ));
                }
                let height = left.height + 1;
                node(
                    Node::IsNull {
                        negated: not,
                        value: Box::new(left.node),
                    },
                    Ty::Bool,
                    left.pos,
                    height,
                )
            }
            _ => Ok(left),
        }
    }

    fn additive(&mut self) -> Result<Expr, SelectorError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek().kind {
                TokenKind::Plus => ArithOp::Add,
                TokenKind::Minus => ArithOp::Sub,
                _ => return Ok(left),
            };
            let token = self.bump();
            let right = self.multiplicative()?;
            left = arith(op, &token, left, right)?;
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, SelectorError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().kind {
                TokenKind::Star => ArithOp::Mul,
                TokenKind::Slash => ArithOp::Div,
                _ => return Ok(left),
            };
            let token = self.bump();
            let right = self.unary()?;
            left = arith(op, &token, left, right)?;
        }
    }

    fn unary(&mut self) -> Result<Expr, SelectorError> {
        let sign = self.peek().clone();
        let negative = match sign.kind {
            TokenKind::Minus => true,
            TokenKind::Plus => false,
            _ => return self.primary(),
        };
        self.bump();
        // `-9223372036854775808` is folded here: its digits alone are out of range.
        if negative {
            if let TokenKind::Integer(value) = self.peek().kind {
                let literal = self.bump();
                let value = 0i128 - i128::from(value);
                let value = i64::try_from(value).map_err(|_| {
                    SelectorError::new(
                        sign.pos,
                        format!("integer literal '-{}' is out of range", literal.text),
                    )
                })?;
                return node(Node::Literal(Literal::Long(value)), Ty::Num, sign.pos, 1);
            }
        }
        self.enter(sign.pos)?;
        let operand = self.unary()?;
        self.leave();
        check_numeric(&operand, &format!("unary '{}'", sign.text))?;
        if !negative {
            if let Node::Literal(_) = operand.node {
                return Ok(Expr {
                    pos: sign.pos,
                    ..operand
                });
            }
            // Kept as a node: `+a` is NULL when `a` is not a number.
            let height = operand.height + 1;
            return node(Node::Pos(Box::new(operand.node)), Ty::Num, sign.pos, height);
        }
        let folded = match &operand.node {
            Node::Literal(Literal::Long(v)) => v.checked_neg().map(Literal::Long),
            Node::Literal(Literal::Double(v)) => Some(Literal::Double(-v)),
            _ => None,
        };
        match folded {
            Some(literal) => node(Node::Literal(literal), Ty::Num, sign.pos, 1),
            None => {
                let height = operand.height + 1;
                node(Node::Neg(Box::new(operand.node)), Ty::Num, sign.pos, height)
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SelectorError> {
        let token = self.bump();
        let pos = token.pos;
        match token.kind {
            TokenKind::Integer(value) => {
                let value = i64::try_from(value).map_err(|_| {
                    SelectorError::new(
                        pos,
                        format!("integer literal '{}' is out of range", token.text),
                    )
                })?;
                node(Node::Literal(Literal::Long(value)), Ty::Num, pos, 1)
            }
            TokenKind::Float(value) => node(Node::Literal(Literal::Double(value)), Ty::Num, pos, 1),
            TokenKind::Str(value) => node(Node::Literal(Literal::Str(value)), Ty::Str, pos, 1),
            TokenKind::Keyword(Keyword::True) => {
                node(Node::Literal(Literal::Bool(true)), Ty::Bool, pos, 1)
            }
            TokenKind::Keyword(Keyword::False) => {
                node(Node::Literal(Literal::Bool(false)), Ty::Bool, pos, 1)
            }
            TokenKind::Ident(name) => node(Node::Ident(Ident::resolve(name)), Ty::Any, pos, 1),
            TokenKind::LParen => {
                self.enter(pos)?;
                let inner = self.or_expr()?;
                self.leave();
                self.expect(TokenKind::RParen, "')'")?;
                Ok(Expr { pos, ..inner })
            }
            TokenKind::Keyword(Keyword::Null) => Err(SelectorError::new(
                pos,
                "unexpected 'NULL': use IS NULL or IS NOT NULL to test for a missing value"
                    .to_string(),
            )),
            _ => Err(self.unexpected(&token, "an expression")),
        }
    }
}

fn too_deep(pos: usize) -> SelectorError {
    SelectorError::new(
        pos,
        format!("the selector is nested too deeply (more than {MAX_DEPTH} levels)"),
    )
}

fn node(node: Node, ty: Ty, pos: usize, height: usize) -> Result<Expr, SelectorError> {
    if height > MAX_DEPTH {
        return Err(too_deep(pos));
    }
    Ok(Expr {
        node,
        ty,
        pos,
        height,
    })
}

fn arith(op: ArithOp, token: &Token, left: Expr, right: Expr) -> Result<Expr, SelectorError> {
    let context = format!("'{}'", token.text);
    check_numeric(&left, &context)?;
    check_numeric(&right, &context)?;
    let height = left.height.max(right.height) + 1;
    // Positioned at the operator: in a long chain that is where the limit was crossed.
    if height > MAX_DEPTH {
        return Err(too_deep(token.pos));
    }
    // The result is a number or NULL, never a string or boolean, whatever the message.
    node(
        Node::Arith(op, Box::new(left.node), Box::new(right.node)),
        Ty::Num,
        left.pos,
        height,
    )
}

/// LIKE and IN apply to an identifier only (JMS 1.1 §3.8.1.2).
fn identifier_operand(left: Expr, keyword: &Token) -> Result<Ident, SelectorError> {
    match left.node {
        Node::Ident(ident) => Ok(ident),
        _ => Err(SelectorError::new(
            left.pos,
            format!(
                "{} needs an identifier on its left, not {}",
                keyword.text.to_uppercase(),
                match left.ty {
                    Ty::Any => "an expression",
                    ty => ty.name(),
                }
            ),
        )),
    }
}
